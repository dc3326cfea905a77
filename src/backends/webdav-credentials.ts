import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { BackendError } from "./backend.ts";
import type { Env } from "./registry.ts";

export interface Credentials {
  user: string;
  password: string;
}

/** The environment wins over ~/.netrc; the URL never carries credentials (registry.ts rejects them). */
export async function credentialsFor(host: string, env: Env): Promise<Credentials | undefined> {
  const user = env["SSTATE_KEEPER_WEBDAV_USER"] || undefined;
  const password = env["SSTATE_KEEPER_WEBDAV_PASSWORD"] || undefined;
  if (user !== undefined && password !== undefined) return { user, password };
  if (user !== undefined || password !== undefined) {
    throw new BackendError("set both SSTATE_KEEPER_WEBDAV_USER and SSTATE_KEEPER_WEBDAV_PASSWORD, or neither to use ~/.netrc");
  }
  const home = env["HOME"];
  if (!home) return undefined;
  let netrc: string;
  try {
    netrc = await readFile(join(home, ".netrc"), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new BackendError(`cannot read ${join(home, ".netrc")}: ${(error as Error).message}`);
  }
  return netrcCredentials(netrc, host);
}

/** The first `machine` entry for host, else `default` (as curl and ftp read netrc). */
export function netrcCredentials(netrc: string, host: string): Credentials | undefined {
  const token = /"((?:\\.|[^"\\])*)"|(\S+)/g;
  const next = (): string | undefined => {
    const match = token.exec(netrc);
    return match ? (match[1]?.replace(/\\(.)/g, "$1") ?? match[2]) : undefined;
  };
  let entry: { matches: boolean; user?: string; password?: string } | undefined;
  let fallback: typeof entry;
  for (let word = next(); word !== undefined; word = next()) {
    if (word.startsWith("#")) {
      // A comment runs to the end of its line.
      const newline = netrc.indexOf("\n", token.lastIndex);
      token.lastIndex = newline < 0 ? netrc.length : newline;
    } else if (word === "macdef") {
      // A macro body runs to the next empty line.
      const blank = /\n[ \t]*\n/g;
      blank.lastIndex = token.lastIndex;
      token.lastIndex = blank.exec(netrc) ? blank.lastIndex : netrc.length;
    } else if (word === "machine" || word === "default") {
      if (entry?.matches) break;
      const name = word === "machine" ? next() : undefined;
      entry = { matches: name?.toLowerCase() === host.toLowerCase() };
      if (word === "default") fallback = entry;
    } else if (entry && (word === "login" || word === "password" || word === "account")) {
      const value = next() ?? "";
      if (word === "login") entry.user = value;
      if (word === "password") entry.password = value;
    }
  }
  const chosen = entry?.matches ? entry : fallback;
  return chosen?.user === undefined ? undefined : { user: chosen.user, password: chosen.password ?? "" };
}
