import { closeSync, ftruncateSync, futimesSync, mkdirSync, openSync } from "node:fs";
import { resolve } from "node:path";
import { setImmediate as nextEventLoopTurn } from "node:timers/promises";
import type { GeneratedFile } from "./generate.ts";

export interface WriteCacheOptions {
  /** Called with the number of files written so far, every few thousand files and once at the end. */
  onProgress?(filesWritten: number): void;
}

export interface WriteCacheResult {
  files: number;
  /** Apparent size; the files are sparse, so the disk holds almost none of it. */
  bytes: number;
}

const PROGRESS_EVERY = 4096;
const PATH_ESCAPING_ROOT = /^\/|(^|\/)\.\.(\/|$)/;

/**
 * Materialises a generated cache under `root` as sparse files with the given sizes and mtimes,
 * so that a million-file cache costs inodes rather than terabytes.
 *
 * Synchronous calls measured about three times faster than callbacks with 16 files in flight on
 * the thread pool, and used a third of the kernel time: the cost is the file system's inode
 * creation, which contends rather than parallelises. The event loop is released between
 * batches so that progress can render.
 */
export async function writeCache(
  root: string,
  files: Iterable<GeneratedFile>,
  options: WriteCacheOptions = {},
): Promise<WriteCacheResult> {
  const rootDir = resolve(root);
  mkdirSync(rootDir, { recursive: true });
  const createdDirs = new Set<string>();
  let written = 0;
  let bytes = 0;
  for (const file of files) {
    if (PATH_ESCAPING_ROOT.test(file.path)) throw new Error(`refusing to write outside ${rootDir}: ${file.path}`);
    const slash = file.path.lastIndexOf("/");
    if (slash > 0) {
      const dir = file.path.slice(0, slash);
      if (!createdDirs.has(dir)) {
        mkdirSync(`${rootDir}/${dir}`, { recursive: true });
        createdDirs.add(dir);
      }
    }
    writeSparseFile(`${rootDir}/${file.path}`, file.size, file.mtimeMs);
    written++;
    bytes += file.size;
    if (written % PROGRESS_EVERY === 0) {
      options.onProgress?.(written);
      await nextEventLoopTurn();
    }
  }
  options.onProgress?.(written);
  return { files: written, bytes };
}

function writeSparseFile(path: string, size: number, mtimeMs: number): void {
  const fd = openSync(path, "w");
  try {
    if (size > 0) ftruncateSync(fd, size);
    const seconds = mtimeMs / 1000;
    futimesSync(fd, seconds, seconds);
  } finally {
    closeSync(fd);
  }
}
