import { resolve } from "node:path";
import { unwritableReason } from "../util/atomic-file.ts";
import { UserError, type CommandIo } from "./io.ts";

/** Checks, before any long work, that a file the command will write can be written; returns its absolute path. */
export async function outputFile(io: CommandIo, flag: string, file: string): Promise<string> {
  const path = resolve(io.cwd, file);
  const problem = await unwritableReason(path);
  if (problem !== undefined) throw new UserError(`--${flag} ${file}: ${problem}; nothing was done`);
  return path;
}
