import { type Backend, type DeleteOutcome, type ExpectedFile, NotFoundError, type RemoteFile } from "./backend.ts";
import { changeSincePlanning } from "./precondition.ts";

/** Objects per listing batch: several batches for a test-sized cache, as remote listings page. */
const LIST_BATCH = 500;

interface StoredObject {
  size: number;
  mtimeMs: number;
  /** Bumped by every write: the ETag, which changes whenever the object does. */
  version: number;
  /** Absent for objects added by size only: they read as zeros, as sparse files do. */
  data?: Uint8Array;
}

/** An object as a build leaves it: its size and mtime, and its bytes if they matter to the test. */
export interface MemoryObject {
  path: string;
  size: number;
  mtimeMs: number;
  data?: Uint8Array;
}

/**
 * A cache held in memory (restic's backend/mem), for tests of planning and apply that need no
 * disk or server. It keeps the whole Backend contract and passes the same conformance suite: a
 * deletion is checked and made in one step (a conditional delete without any window), objects
 * carry an ETag, and directories exist from the put that needs them until removeEmptyDirs
 * removes them, as on a filesystem or WebDAV server.
 *
 * Deliberately not a target scheme: a cache that vanishes with the process is nothing a policy
 * could be planned for, and `--target memory://` would only be one more thing for users to read.
 */
export class MemoryBackend implements Backend {
  readonly displayUrl: string;
  private readonly objects = new Map<string, StoredObject>();
  private readonly dirs = new Set<string>();
  private readonly clock: () => number;
  private writes = 0;

  constructor(options: { displayUrl?: string; clock?: () => number; objects?: Iterable<MemoryObject> } = {}) {
    this.displayUrl = options.displayUrl ?? "memory://cache";
    this.clock = options.clock ?? Date.now;
    for (const object of options.objects ?? []) this.write(object.path, object);
  }

  /** Writes an object with the given size and mtime, as a build (or a test) would leave it. */
  add(object: MemoryObject): void {
    this.write(object.path, object);
  }

  /** The directories that exist (relative to the root, which is not one of them), sorted. */
  directories(): string[] {
    return [...this.dirs].sort();
  }

  async *list(): AsyncIterable<RemoteFile[]> {
    // The paths as the listing starts; each batch reads the objects as they are when it is made.
    const paths = [...this.objects.keys()].sort();
    for (let start = 0; start < paths.length; start += LIST_BATCH) {
      const batch = paths.slice(start, start + LIST_BATCH).flatMap((path) => this.fileAt(path) ?? []);
      if (batch.length > 0) yield batch;
    }
  }

  async stat(path: string): Promise<RemoteFile | undefined> {
    return this.fileAt(path);
  }

  async statMany(paths: readonly string[]): Promise<(RemoteFile | undefined)[]> {
    return paths.map((path) => this.fileAt(path));
  }

  async deleteMany(files: readonly ExpectedFile[]): Promise<DeleteOutcome[]> {
    return files.map((expected): DeleteOutcome => {
      const current = this.fileAt(expected.path);
      if (current === undefined) return { path: expected.path, status: "missing" };
      const change = changeSincePlanning(expected, current);
      if (change !== undefined) return { path: expected.path, status: "changed", reason: change };
      this.objects.delete(expected.path);
      return { path: expected.path, status: "deleted" };
    });
  }

  async put(path: string, data: Uint8Array): Promise<void> {
    this.write(path, { size: data.length, mtimeMs: this.clock(), data: data.slice() });
  }

  async get(path: string): Promise<Uint8Array> {
    const object = this.objects.get(path);
    if (object === undefined) throw new NotFoundError(path);
    return object.data?.slice() ?? new Uint8Array(object.size);
  }

  async *read(path: string): AsyncIterable<Uint8Array> {
    yield await this.get(path);
  }

  /** Each directory and its parents, deepest first, if nothing is in them. */
  async removeEmptyDirs(dirs: readonly string[]): Promise<void> {
    const candidates = new Set<string>();
    for (const dir of dirs) for (let d = dir; d !== ""; d = parentOf(d)) candidates.add(d);
    for (const dir of [...candidates].sort((a, b) => b.split("/").length - a.split("/").length)) {
      if (this.dirs.has(dir) && !this.holdsAnything(dir)) this.dirs.delete(dir);
    }
  }

  async close(): Promise<void> {}

  private write(path: string, { size, mtimeMs, data }: Omit<StoredObject, "version">): void {
    this.objects.set(path, { size, mtimeMs, data, version: ++this.writes });
    for (let dir = parentOf(path); dir !== ""; dir = parentOf(dir)) this.dirs.add(dir);
  }

  private fileAt(path: string): RemoteFile | undefined {
    const object = this.objects.get(path);
    return object && { path, size: object.size, mtimeMs: object.mtimeMs, etag: `"${object.version}"` };
  }

  private holdsAnything(dir: string): boolean {
    const inside = `${dir}/`;
    for (const path of this.objects.keys()) if (path.startsWith(inside)) return true;
    for (const other of this.dirs) if (other.startsWith(inside)) return true;
    return false;
  }
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "" : path.slice(0, slash);
}
