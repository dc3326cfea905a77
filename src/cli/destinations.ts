import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { UserError, type CommandIo } from "./io.ts";

/**
 * Checks, before any long work, that a file the command will write can be written: its directory
 * exists and is writable, and the file, if it exists, is a regular file. Returns the absolute path.
 */
export async function outputFile(io: CommandIo, flag: string, file: string): Promise<string> {
  const path = resolve(io.cwd, file);
  const directory = dirname(path);
  const dirStats = await stat(directory).catch(() => undefined);
  if (!dirStats?.isDirectory()) throw new UserError(`--${flag} ${file}: the directory ${directory} does not exist; create it first or choose another path`);
  const fileStats = await stat(path).catch(() => undefined);
  if (fileStats !== undefined && !fileStats.isFile()) throw new UserError(`--${flag} ${file}: exists and is not a regular file`);
  try {
    await access(fileStats !== undefined ? path : directory, constants.W_OK);
  } catch {
    throw new UserError(`--${flag} ${file}: not writable by this user`);
  }
  return path;
}
