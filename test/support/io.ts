import { DEFAULT_TIMEOUTS, type OpenOptions } from "../../src/backends/backend.ts";
import type { CommandIo } from "../../src/cli/io.ts";
import { Redactor } from "../../src/util/secrets.ts";

export interface TestIo extends CommandIo {
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
    env: options.env ?? {},
    secrets: Redactor.fromEnv(options.env ?? {}),
    cwd: options.cwd ?? process.cwd(),
    clock: options.clock ?? (() => new Date()),
  };
}

/** Open options as the CLI passes them by default. */
export function openOptions(overrides: Partial<OpenOptions> = {}): OpenOptions {
  return { timeouts: DEFAULT_TIMEOUTS, secrets: new Redactor(), ...overrides };
}

/** stderr without its warnings (`file:line:col: warning: …` lines, which a progress line may precede on the same line). */
export function withoutWarnings(stderr: string): string {
  return stderr.replace(/(?<=^|\n|\x1b\[2K)[^\r\n\x1b]*:\d+:\d+: warning: [^\n]*\n/g, "");
}

/** The rules that stderr's warnings say matched no listed file. */
export function unmatchedRulesIn(stderr: string): string[] {
  return [...stderr.matchAll(/: warning: rule '([^']+)' matched none of the /g)].map((match) => match[1]!);
}
