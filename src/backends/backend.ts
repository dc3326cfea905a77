/**
 * The one interface every storage backend implements (local files, S3, WebDAV).
 * Paths are always relative to the backend's root, with POSIX separators and no leading "/".
 */

/** One object as listed or stat'ed. `mtimeMs` is the file mtime, S3 LastModified or DAV getlastmodified. */
export interface RemoteFile {
  path: string;
  size: number;
  mtimeMs: number;
  /** Strong or weak entity tag where the backend has one (S3, WebDAV); never for local files. */
  etag?: string;
  /** Local symlinks are listed (with their own lstat size/mtime) but never followed. */
  symlink?: boolean;
}

export type DeleteOutcome =
  | { path: string; status: "deleted" }
  | { path: string; status: "missing" }
  | { path: string; status: "failed"; error: string; transient: boolean };

export interface ListOptions {
  /** Called with the number of files seen so far; backends call it at most once per batch. */
  onProgress?: (filesSeen: number) => void;
  signal?: AbortSignal;
}

export interface Backend {
  /** The target as the user sees it, without credentials. */
  readonly displayUrl: string;
  /**
   * Streams every object under the root in batches (order unspecified). Batching keeps the
   * per-object cost of async iteration negligible on million-file caches.
   */
  list(options?: ListOptions): AsyncIterable<RemoteFile[]>;
  /** Current state of one object, or undefined if it does not exist. */
  stat(path: string): Promise<RemoteFile | undefined>;
  /**
   * `stat` of many objects at once (same order), for backends where one listing answers for
   * many objects: apply checks each batch of a sorted plan with a few requests instead of one per file.
   */
  statMany?(paths: readonly string[]): Promise<(RemoteFile | undefined)[]>;
  /** Deletes the given objects, reporting one outcome per path (never throws for a single object). */
  deleteMany(paths: readonly string[]): Promise<DeleteOutcome[]>;
  /**
   * Writes an object so that readers never see a partial one under its final name;
   * creates parent directories/collections as needed.
   */
  put(path: string, data: Uint8Array): Promise<void>;
  /** Reads a whole object (siginfo files are small). Throws NotFoundError if absent. */
  get(path: string): Promise<Uint8Array>;
  /** Removes the given directories (and their parents up to, never including, the root) if they are empty. */
  removeEmptyDirs?(dirs: readonly string[]): Promise<void>;
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
 * A backend problem a user can fix (unreachable endpoint, bad credentials, missing bucket…).
 * The message is one line saying what to check; the CLI prints it and exits 1.
 */
export class BackendError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "BackendError";
  }
}
