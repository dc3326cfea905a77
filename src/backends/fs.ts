import { Buffer } from "node:buffer";
import { constants, realpathSync, statSync } from "node:fs";
import { type FileHandle, lstat as lstatAsync, mkdir, open, readdir, rename, stat as statAsync, writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { ThreadPart } from "../sstate/listing-part.ts";
import { uploadTemporaryPath } from "../sstate/name.ts";
import { mapConcurrent } from "../util/concurrency.ts";
import { type Backend, BackendError, type DeleteOutcome, type ExpectedFile, NotFoundError, type RemoteFile } from "./backend.ts";
import { packFiles, parentOf, unpackOutcomes } from "./fs-delete.ts";
import { DELETION_THREADS, DeletionThreads, SMALL_JOB } from "./fs-delete-threads.ts";
import { fileOf, inPathOrder, type ParsedUnit, type WalkedUnit, type WalkEntry, type WalkRequest, type WalkUnit } from "./fs-walk.ts";
import { compareCodeUnits } from "../util/compare.ts";

/** Directories just below the root read at once: enough to hide NFS latency. */
const LIST_CONCURRENCY = 64;
/** `read` hands out the file in pieces of this size. */
const READ_CHUNK_BYTES = 1024 * 1024;
/**
 * Measured on a million-file cache with 2 cores: two listing threads take 3.9 s where one takes
 * 6.7 s (`find -printf`: 4.4 s). More than four gain little and cost memory.
 */
const LISTING_THREADS = Math.max(1, Math.min(4, availableParallelism()));
/**
 * What a listing thread keeps lives as long as the thread (its parser's dictionaries) or is sent
 * off with each unit: a small young generation holds the rest. The default (tens of MiB per
 * thread) was a quarter of a million-file plan's peak memory.
 */
const LISTING_THREAD_LIMITS = { maxYoungGenerationSizeMb: 8 };
/** Units listed ahead of the one the consumer waits for. */
const UNITS_AHEAD = 4 * LISTING_THREADS;
/** Entries per unit: a few hundred files in the usual two-level layout, thousands of units for a million files. */
const UNIT_ENTRIES = 32;
/** The listing thread's module next to this one: `.ts` when run from source (Deno, tests), `.js` when built. */
const WALK_WORKER = new URL(`./fs-walk-worker${import.meta.url.slice(import.meta.url.lastIndexOf("."))}`, import.meta.url);

/** A cache on a local or network filesystem. Symlinks are listed with their own lstat and never followed. */
export class FsBackend implements Backend {
  readonly root: string;
  readonly displayUrl: string;
  #deleting: DeletionThreads | undefined;

  constructor(root: string) {
    this.root = resolve(root);
    this.displayUrl = pathToFileURL(this.root).href;
  }

  /** The files as they are (see `walk`). */
  async *list(): AsyncIterable<RemoteFile[]> {
    for await (const walked of this.walk<WalkedUnit>(false)) {
      if ("error" in walked) throw new BackendError(walked.error);
      const files = filesOf(walked);
      if (files.length > 0) yield files;
    }
  }

  /** The files parsed by the listing threads: what a listing is built from (see ListingBuilder.addPart). */
  async *listParts(): AsyncIterable<ThreadPart> {
    for await (const walked of this.walk<ParsedUnit>(true)) {
      if ("error" in walked) throw new BackendError(walked.error);
      yield walked;
    }
  }

  /**
   * Lists with a few threads that each lstat whole subtrees (see fs-walk.ts), packed or parsed;
   * their units are yielded in path order.
   */
  private async *walk<Unit extends { index: number }>(parsed: boolean): AsyncIterable<Unit> {
    const units = await walkUnits(this.root);
    const threads = Array.from({ length: Math.min(units.length, LISTING_THREADS) }, () => new Worker(WALK_WORKER, { workerData: { root: this.root }, resourceLimits: LISTING_THREAD_LIMITS }));
    const arrived = new Map<number, Unit>();
    let failure: Error | undefined;
    let finished = false;
    let wake: (() => void) | undefined;
    const notify = () => {
      const waiting = wake;
      wake = undefined;
      waiting?.();
    };
    // Units go out as threads finish them, never more than UNITS_AHEAD past the next one to yield:
    // a thread that runs ahead of a slow consumer would otherwise pile up the whole listing.
    let assigned = 0;
    let next = 0;
    const idle: Worker[] = [];
    const assign = () => {
      while (idle.length > 0 && assigned < units.length && assigned - next < UNITS_AHEAD) idle.pop()!.postMessage({ unit: units[assigned++]!, parsed } satisfies WalkRequest);
    };
    for (const thread of threads) {
      thread.on("message", (walked: Unit) => {
        arrived.set(walked.index, walked);
        idle.push(thread);
        assign();
        notify();
      });
      thread.on("error", (error: Error) => {
        failure ??= new BackendError(`listing ${this.root} failed: ${error.message}`);
        notify();
      });
      thread.on("exit", (code) => {
        if (!finished) failure ??= new BackendError(`listing ${this.root} failed: a listing thread stopped (exit code ${code})`);
        notify();
      });
      // Two units each, so that a thread never waits for the next while this one takes the last.
      idle.push(thread, thread);
    }
    assign();
    try {
      while (next < units.length) {
        if (failure) throw failure;
        const walked = arrived.get(next);
        if (walked === undefined) {
          await new Promise<void>((resolve) => (wake = resolve));
          continue;
        }
        arrived.delete(next++);
        assign();
        yield walked;
      }
    } finally {
      finished = true;
      await Promise.all(threads.map((thread) => thread.terminate()));
    }
  }

  async stat(path: string): Promise<RemoteFile | undefined> {
    try {
      return fileOf(path, await lstatAsync(this.absolute(path)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
  }

  /** Deleted on a deletion thread, each file renamed aside, checked and unlinked inside its pinned directory (fs-delete.ts). */
  async deleteMany(files: readonly ExpectedFile[]): Promise<DeleteOutcome[]> {
    if (files.length === 0) return [];
    return unpackOutcomes(files, (await this.deletionThreads().run({ kind: "delete", files: packFiles(files) }))!);
  }

  async put(path: string, data: Uint8Array): Promise<void> {
    const target = this.absolute(path);
    await mkdir(dirname(target), { recursive: true });
    // Written beside the target and renamed: readers never see a partial object under the final name.
    const temporary = uploadTemporaryPath(target);
    // Created, never opened if something is there already (a FIFO would block the write).
    await writeFile(temporary, data, { flag: "wx" });
    await rename(temporary, target);
  }

  /**
   * Reads a regular file (through a symlink, as bitbake's mirror links are). A FIFO, socket or
   * device is refused without being opened (opening a FIFO waits for a writer forever); one
   * swapped in after that check is opened non-blocking, found out on the descriptor and never read.
   */
  async get(path: string): Promise<Uint8Array> {
    const file = await this.openRegular(path);
    try {
      return await file.readFile();
    } finally {
      await file.close();
    }
  }

  async *read(path: string): AsyncIterable<Uint8Array> {
    const file = await this.openRegular(path);
    try {
      for (;;) {
        // A fresh buffer each time: the consumer may keep a chunk while the next one is read.
        const buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES);
        const { bytesRead } = await file.read(buffer, 0, buffer.length, null);
        if (bytesRead === 0) return;
        yield buffer.subarray(0, bytesRead);
      }
    } finally {
      await file.close();
    }
  }

  /** The open regular file at `path`; NotFoundError if there is none. */
  private async openRegular(path: string): Promise<FileHandle> {
    const absolute = this.absolute(path);
    const notRegular = () => new BackendError(`${path}: not a regular file (a FIFO, socket or device); not read`, { kind: "config" });
    let file: FileHandle | undefined;
    try {
      if (!(await statAsync(absolute)).isFile()) throw notRegular();
      file = await open(absolute, constants.O_RDONLY | constants.O_NONBLOCK);
      if (!(await file.stat()).isFile()) throw notRegular();
      return file;
    } catch (error) {
      await file?.close();
      if ((error as NodeJS.ErrnoException).code === "ENOENT") throw new NotFoundError(path);
      throw error;
    }
  }

  /**
   * Removes the emptied directories and their parents, one depth at a time from the deepest, so
   * that a parent is tried after all its children; each depth is shared out between the
   * deletion threads in path order (a thread stays in one parent for its siblings).
   */
  async removeEmptyDirs(dirs: readonly string[]): Promise<void> {
    const byDepth: string[][] = [];
    const seen = new Set<string>();
    for (const dir of dirs) {
      for (let d = dir; d !== "" && d !== "." && !seen.has(d); d = parentOf(d)) {
        seen.add(d);
        (byDepth[d.split("/").length] ??= []).push(d);
      }
    }
    const threads = this.deletionThreads();
    for (const level of byDepth.reverse()) {
      if (level === undefined) continue;
      level.sort(compareCodeUnits);
      const share = Math.max(SMALL_JOB, Math.ceil(level.length / DELETION_THREADS));
      const jobs = [];
      for (let start = 0; start < level.length; start += share) jobs.push(threads.run({ kind: "remove-empty-dirs", dirs: level.slice(start, start + share) }));
      await Promise.all(jobs);
    }
  }

  async close(): Promise<void> {
    await this.#deleting?.close();
    this.#deleting = undefined;
  }

  /** The root by its real path (it may itself be a symlink, e.g. /srv/sstate → /data/sstate) and its identity, taken once. */
  private deletionThreads(): DeletionThreads {
    if (this.#deleting === undefined) {
      try {
        const path = realpathSync(this.root);
        const { dev, ino } = statSync(path);
        this.#deleting = new DeletionThreads({ path, dev, ino });
      } catch (error) {
        throw rootError(this.root, error);
      }
    }
    return this.#deleting;
  }

  private absolute(path: string): string {
    return join(this.root, ...path.split("/"));
  }
}

function rootError(root: string, error: unknown): BackendError {
  const { code, message } = error as NodeJS.ErrnoException;
  return new BackendError(code === "ENOENT" ? `${root}: no such directory; check the target path` : `${root}: ${message}`, { kind: "config", cause: error });
}

/**
 * Splits the tree into units of at most UNIT_ENTRIES entries of the root or of a directory
 * just below it: enough units to share the work evenly, in path order.
 */
async function walkUnits(root: string): Promise<WalkUnit[]> {
  const rootStats = await lstatAsync(root).catch((error: NodeJS.ErrnoException) => {
    throw rootError(root, error);
  });
  if (!rootStats.isDirectory()) throw new BackendError(`${root}: not a directory; the target must be the sstate cache directory`);
  const read = async (dir: string) => {
    try {
      return inPathOrder(await readdir(dir === "" ? root : `${root}/${dir}`, { withFileTypes: true }));
    } catch (error) {
      throw new BackendError(`cannot read ${join(root, dir)}: ${(error as Error).message}`);
    }
  };
  const top = await read("");
  const below = await mapConcurrent(top, LIST_CONCURRENCY, (entry) => (entry.directory ? read(entry.name) : Promise.resolve([])));
  const units: WalkUnit[] = [];
  const add = (dir: string, entries: WalkEntry[]) => {
    for (let start = 0; start < entries.length; start += UNIT_ENTRIES) units.push({ index: units.length, dir, entries: entries.slice(start, start + UNIT_ENTRIES) });
  };
  let rootFiles: WalkEntry[] = [];
  top.forEach((entry, i) => {
    if (!entry.directory) return void rootFiles.push(entry);
    add("", rootFiles);
    rootFiles = [];
    add(entry.name, below[i]!);
  });
  add("", rootFiles);
  return units;
}

function filesOf(walked: Extract<WalkedUnit, { paths: string }>): RemoteFile[] {
  if (walked.sizes.length === 0) return [];
  const paths = walked.paths.split("\u0000");
  const files = new Array<RemoteFile>(paths.length);
  for (let i = 0; i < paths.length; i++) files[i] = { path: paths[i]!, size: walked.sizes[i]!, mtimeMs: walked.mtimesMs[i]! };
  for (const i of walked.symlinks) files[i]!.symlink = true;
  for (const i of walked.specials) files[i]!.special = true;
  return files;
}
