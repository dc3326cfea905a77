import type { ExpectedFile, RemoteFile } from "../sstate/files.ts";
import type { ThreadPart } from "../sstate/listing-part.ts";
import type { SecretSink } from "../util/secrets.ts";

/**
 * The one interface every storage backend implements (local files, S3, WebDAV).
 * Paths are always relative to the backend's root, with POSIX separators and no leading "/".
 */

export type { ExpectedFile, RemoteFile } from "../sstate/files.ts";

export type DeleteOutcome =
  | { path: string; status: "deleted" }
  /** Gone before we got to it: only ever from a definite "not found". */
  | { path: string; status: "missing" }
  /** Not deleted because it is no longer as expected (a build used or rewrote it). */
  | { path: string; status: "changed"; reason: string }
  | { path: string; status: "failed"; error: string };

/** Network limits of every request a remote backend makes (SPEC §5: nothing waits forever). */
export interface Timeouts {
  /** Establishing a connection (TCP + TLS). */
  connectMs: number;
  /** Silence on an open connection: no response headers, or no body bytes, for this long. */
  idleMs: number;
  /**
   * How long one operation may take with all its retries: no new attempt starts after this,
   * so a silent server fails an operation within about this plus one idle timeout.
   */
  operationMs: number;
}

/**
 * Defaults that end every command against a silent or stalling server within two minutes:
 * attempts of ≤ 15 s silence each, none started after 60 s.
 */
export const DEFAULT_TIMEOUTS: Timeouts = { connectMs: 10_000, idleMs: 15_000, operationMs: 60_000 };

export interface OpenOptions {
  timeouts: Timeouts;
  /** Credentials the backend learns (a netrc password, its Authorization value) go here, so that no message prints them. */
  secrets: SecretSink;
}

export interface Backend {
  /** The target as the user sees it, without credentials. */
  readonly displayUrl: string;
  /**
   * Streams every object under the root in batches (order unspecified). Batching keeps the
   * per-object cost of async iteration negligible on million-file caches. A listing that cannot
   * be completed throws: an incomplete listing is never returned as a complete one.
   */
  list(): AsyncIterable<RemoteFile[]>;
  /**
   * The same listing parsed where it is listed (the local backend's listing threads), in path
   * order: what a Listing is built from when the backend offers it.
   */
  listParts?(): AsyncIterable<ThreadPart>;
  /** Current state of one object, or undefined only if the server definitely says it does not exist. */
  stat(path: string): Promise<RemoteFile | undefined>;
  /**
   * `stat` of many objects at once (same order), for backends where one listing answers for
   * many objects: apply checks each batch of a sorted plan with a few requests instead of one per file.
   */
  statMany?(paths: readonly string[]): Promise<(RemoteFile | undefined)[]>;
  /**
   * Deletes each object only if it is still as expected, checked as close to its deletion as the
   * backend allows (immediately before its own unlink, or by a conditional request), reporting
   * one outcome per file in the same order. Throws only when the whole call could not be made
   * (a BackendError of kind "auth" means: stop, nothing else will work either).
   */
  deleteMany(files: readonly ExpectedFile[]): Promise<DeleteOutcome[]>;
  /**
   * Writes an object so that readers never see a partial one under its final name;
   * creates parent directories/collections as needed.
   */
  put(path: string, data: Uint8Array): Promise<void>;
  /** Reads a whole object (siginfo files are small). Throws NotFoundError if absent. */
  get(path: string): Promise<Uint8Array>;
  /**
   * Streams an object's bytes (access logs can be large), in chunks the consumer may keep.
   * Iterating throws NotFoundError if it is absent, and fails rather than end early when the
   * transfer breaks off.
   */
  read(path: string): AsyncIterable<Uint8Array>;
  /**
   * Removes the given directories (and their parents up to, never including, the root) if they
   * are empty, in a way that can never remove anything they hold. Resolves to a note for the
   * user when some were left in place on purpose or after failures (never a failure of the run).
   */
  removeEmptyDirs?(dirs: readonly string[]): Promise<string | void>;
  /** Releases connections; safe to call twice. */
  close(): Promise<void>;
}

export class NotFoundError extends Error {
  readonly path: string;
  constructor(path: string) {
    super(`${path}: not found`);
    this.path = path;
    this.name = "NotFoundError";
  }
}

/**
 * `auth`: credentials refused (401/403): retrying cannot help, the run stops at once.
 * `unavailable`: unreachable, timed out, or failing after every retry.
 * `protocol`: an answer that is malformed or truncated (never read as "empty" or "not found").
 * `config`: the target or its settings are wrong (missing bucket, not a directory …).
 */
export type BackendErrorKind = "auth" | "unavailable" | "protocol" | "config";

/**
 * A backend problem a user can fix (unreachable endpoint, bad credentials, missing bucket…).
 * The message is one line saying what to check, naming the host and the operation, and never
 * holding a server's body or a credential; the CLI prints it and exits 1.
 */
export class BackendError extends Error {
  readonly kind: BackendErrorKind;
  constructor(message: string, options: { cause?: unknown; kind?: BackendErrorKind } = {}) {
    super(message, options.cause === undefined ? {} : { cause: options.cause });
    this.name = "BackendError";
    this.kind = options.kind ?? "unavailable";
  }
}
