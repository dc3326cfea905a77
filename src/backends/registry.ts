import { isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Backend, OpenOptions } from "./backend.ts";
import { FsBackend } from "./fs.ts";
import { maskCredentialText } from "../util/secrets.ts";
import { schemeOf } from "../util/location.ts";

export type Env = Readonly<Record<string, string | undefined>>;

/** A parsed target URL, with any credentials rejected before it can be recorded or printed. */
export interface Target {
  scheme: "file" | "s3" | "webdav";
  /** Normalised URL as recorded in plans. */
  url: string;
  open(env: Env, options: OpenOptions): Promise<Backend>;
}

export class TargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TargetError";
  }
}

const openers: Record<string, (url: URL, raw: string) => Target> = {};
const wrappers: ((backend: Backend) => Backend)[] = [];

/** Registers a URL scheme's backend (S3 and WebDAV register themselves in their modules). */
export function registerScheme(schemes: string[], open: (url: URL, raw: string) => Target): void {
  for (const scheme of schemes) openers[scheme] = open;
}

/**
 * Wraps every backend a target opens from now on (restic's wrappers that are backends): for a
 * program that runs commands in-process and observes their backends, e.g. the bench reading
 * request counters. The CLI registers none.
 */
export function wrapOpenedBackends(wrap: (backend: Backend) => Backend): void {
  wrappers.push(wrap);
}

/** PATH_MAX on Linux; a URL is no longer in practice. A longer "target" is garbage, and each message quoting it would be huge. */
const MAX_TARGET_LENGTH = 4096;

export function parseTarget(raw: string, cwd: string): Target {
  const target = targetOf(raw, cwd);
  if (wrappers.length === 0) return target;
  return { ...target, open: async (env, options) => wrappers.reduce((backend, wrap) => wrap(backend), await target.open(env, options)) };
}

function targetOf(raw: string, cwd: string): Target {
  if (raw.length > MAX_TARGET_LENGTH) throw new TargetError(`a target of ${raw.length} characters is longer than any path or URL (at most ${MAX_TARGET_LENGTH})`);
  const scheme = schemeOf(raw);
  if (scheme === undefined) return fileTarget(isAbsolute(raw) ? raw : resolve(cwd, raw));
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TargetError(`'${maskCredentialText(raw)}' is not a valid URL`);
  }
  if (url.username || url.password) {
    throw new TargetError(`a target URL must not contain credentials (${maskCredentialText(raw)}); use the environment (AWS_*, SSTATE_KEEPER_WEBDAV_USER/PASSWORD) or ~/.netrc`);
  }
  if (scheme === "file") return fileTarget(localPathOf(url));
  const open = openers[scheme];
  if (!open) throw new TargetError(`unsupported target scheme '${scheme}://'; use a path, file://, s3://, http(s):// or webdav+http(s)://`);
  return open(url, raw);
}

function localPathOf(url: URL): string {
  try {
    return fileURLToPath(url);
  } catch (error) {
    throw new TargetError(`'${url.href}' is not a local path: ${(error as Error).message}`);
  }
}

function fileTarget(path: string): Target {
  const backend = new FsBackend(path);
  return { scheme: "file", url: backend.displayUrl, open: async () => backend };
}
