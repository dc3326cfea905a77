import type { Io } from "../../src/cli/io.ts";

export interface TestIo extends Io {
  out: string[];
  err: string[];
  readonly stdoutText: string;
  readonly stderrText: string;
}

/** An Io that records output; the clock and cwd can be fixed. */
export function testIo(options: { cwd?: string; clock?: () => Date; env?: Record<string, string | undefined> } = {}): TestIo {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    get stdoutText() {
      return out.join("");
    },
    get stderrText() {
      return err.join("");
    },
    stdout: (text) => void out.push(text),
    stderr: (text) => void err.push(text),
    progressEnabled: false,
    color: false,
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
    clock: options.clock ?? (() => new Date()),
  };
}
