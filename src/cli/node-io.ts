import process from "node:process";
import type { Io } from "./io.ts";
import { progressWanted } from "./views/progress.ts";

/** The real process's streams, environment and clock (works on Node and Deno through node:process). */
export function nodeIo(): Io {
  return {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    progressEnabled: progressWanted(process.stderr, process.env),
    ...(process.stderr.columns ? { terminalColumns: process.stderr.columns } : {}),
    env: process.env,
    cwd: process.cwd(),
    clock: () => new Date(),
  };
}
