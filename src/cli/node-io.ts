import process from "node:process";
import type { Io } from "./io.ts";

/** The real process's streams, environment and clock (works on Node and Deno through node:process). */
export function nodeIo(): Io {
  return {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    progressEnabled: process.stderr.isTTY === true && !process.env.CI,
    env: process.env,
    cwd: process.cwd(),
    clock: () => new Date(),
  };
}
