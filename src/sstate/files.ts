/** Objects of a cache as every backend lists them, and as apply expects them to still be. */

/**
 * One object as listed or stat'ed. `mtimeMs` is the file mtime, S3 LastModified or DAV
 * getlastmodified, in whole milliseconds (what plans record; listing and stat agree on it).
 */
export interface RemoteFile {
  path: string;
  size: number;
  mtimeMs: number;
  /** Strong or weak entity tag where the backend has one (S3, WebDAV); never for local files. */
  etag?: string;
  /** Local symlinks are listed (with their own lstat size/mtime) but never followed. */
  symlink?: boolean;
  /** A local FIFO, socket or device: listed so that it is counted, never managed, opened or deleted. */
  special?: boolean;
}

/** What apply expects a planned object still to be: the state the plan recorded. */
export interface ExpectedFile {
  path: string;
  size: number;
  /** Whole milliseconds, as plans record them. */
  mtimeMs: number;
  etag?: string;
}
