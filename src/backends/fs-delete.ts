/**
 * Deleting from a local cache without check-then-use gaps, on a deletion thread (see
 * fs-delete-threads.ts): each job is a batch of files, or of directories to remove, done with
 * blocking calls one after another, so that a batch costs one message each way instead of
 * thousands of callbacks through libuv's pool.
 *
 * A cache on a shared disk can be written by every build machine while we delete: a hash
 * directory can be swapped for a symlink to somewhere else, and a build can touch a planned file
 * (it uses it) at any moment. So:
 *
 * - Each directory is opened from the root one component at a time, each component relative to
 *   the descriptor of the one before and with O_NOFOLLOW|O_DIRECTORY: a component that is a
 *   symlink (or no directory) is refused by the open itself, so there is no moment between a
 *   look and a step. Inside, every name is resolved relative to that descriptor, through
 *   `/proc/self/fd/N/NAME` (Node has no `openat`/`unlinkat`; the magic link is the kernel's own
 *   `*at` resolution from an open directory), which a later swap of the path cannot change. The
 *   descriptors of the current directory and its parents are kept while the batch stays in
 *   them: one open per directory and batch, not a path walk per file.
 * - A file is first renamed aside (atomic), then checked, then unlinked: a touch before the rename
 *   shows in the check (the file is put back and reported changed), a touch after it finds no
 *   file. There is no moment at which a touched file can be deleted. The aside name is fixed,
 *   `<name>.deleting` (a temp leftover to the sstate grammar), so a run killed between rename and
 *   unlink leaves a file the next run finds and finishes.
 */
import { closeSync, constants, fstatSync, linkSync, lstatSync, openSync, renameSync, rmdirSync, unlinkSync } from "node:fs";
import type { DeleteOutcome, ExpectedFile } from "./backend.ts";
import { fileOf } from "./fs-walk.ts";
import { changeSincePlanning } from "./precondition.ts";

/** Where a file waits between its rename and its unlink. */
const ASIDE = ".deleting";
const NOT_INSIDE = "not deleted: its directory is no longer a directory inside the target root (replaced by a symlink or moved since planning)";
/** A directory, never through a symlink as its last component (ENOTDIR then, ELOOP on some kernels). */
const DIRECTORY_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
/** Where the kernel resolves names relative to an open descriptor (Linux procfs). */
const DESCRIPTORS = "/proc/self/fd";

/** The cache root by its real path, and the identity (device, inode) it had when apply opened it. */
export interface PinnedRoot {
  path: string;
  dev: number;
  ino: number;
}

/** What a deletion thread is asked to do. */
export type DeletionJob =
  | { kind: "delete"; files: PackedFiles }
  /** Removes each directory if it is empty, in the order given (children before their parents). */
  | { kind: "remove-empty-dirs"; dirs: string[] };

/**
 * Expected files packed for the trip to a thread: a few buffers to copy instead of a thousand
 * objects. No ETag: a local file has none, so its check is by size and mtime.
 */
export interface PackedFiles {
  /** Relative paths joined by NUL, the one character no file name contains. */
  paths: string;
  sizes: Float64Array;
  mtimesMs: Float64Array;
}

/** One status per file (see STATUSES), and the reason or error of those that have one. */
export interface PackedOutcomes {
  statuses: Uint8Array;
  detailed: number[];
  details: string[];
}

const STATUSES = ["deleted", "missing", "changed", "failed"] as const;

export function packFiles(files: readonly ExpectedFile[]): PackedFiles {
  return { paths: files.map((file) => file.path).join("\u0000"), sizes: Float64Array.from(files, (file) => file.size), mtimesMs: Float64Array.from(files, (file) => file.mtimeMs) };
}

export function unpackOutcomes(files: readonly ExpectedFile[], packed: PackedOutcomes): DeleteOutcome[] {
  const details = new Map(packed.detailed.map((index, i) => [index, packed.details[i]!]));
  return files.map(({ path }, index): DeleteOutcome => {
    const status = STATUSES[packed.statuses[index]!]!;
    if (status === "changed") return { path, status, reason: details.get(index)! };
    if (status === "failed") return { path, status, error: details.get(index)! };
    return { path, status };
  });
}

/** A directory we are in (by descriptor), or why its files are not touched. */
type Entered = { fd: number } | { refused: "gone" } | { refused: "failed"; error: string };

export function runDeletionJob(root: PinnedRoot, job: DeletionJob): PackedOutcomes | undefined {
  const handles = new DirectoryHandles(root);
  try {
    if (job.kind === "delete") return deleteFiles(handles, job.files);
    for (const dir of job.dirs) {
      const entered = handles.enter(parentOf(dir));
      if (!("fd" in entered)) continue;
      try {
        // Never removes anything a directory holds, nor a symlink or file (ENOTDIR).
        rmdirSync(`${DESCRIPTORS}/${entered.fd}/${nameOf(dir)}`);
      } catch {
        // Not empty (a build wrote into it), or gone: either way nothing to do.
      }
    }
    return undefined;
  } finally {
    handles.close();
  }
}

/**
 * Opens directories below the root one component at a time, keeping the descriptors of the
 * last directory entered and of its parents, so that the next one shares the open part of the
 * path (a sorted plan stays in one directory for all its files there).
 */
class DirectoryHandles {
  readonly #root: PinnedRoot;
  #rootFd: number | Entered | undefined;
  /** Open components below the root: `#chain[i]` is the descriptor of the first i + 1 components of `#names`. */
  readonly #chain: number[] = [];
  readonly #names: string[] = [];
  #last: { dir: string; entered: Entered } | undefined;

  constructor(root: PinnedRoot) {
    this.#root = root;
  }

  /** `dir` relative to the root, "" for the root itself. */
  enter(dir: string): Entered {
    if (this.#last?.dir === dir) return this.#last.entered;
    const entered = this.#open(dir === "" ? [] : dir.split("/"));
    this.#last = { dir, entered };
    return entered;
  }

  close(): void {
    for (const fd of this.#chain.splice(0)) closeSync(fd);
    if (typeof this.#rootFd === "number") closeSync(this.#rootFd);
  }

  #open(components: readonly string[]): Entered {
    const root = this.#openRoot();
    if (typeof root !== "number") return root;
    let shared = 0;
    while (shared < this.#names.length && shared < components.length && this.#names[shared] === components[shared]) shared++;
    for (const fd of this.#chain.splice(shared)) closeSync(fd);
    this.#names.length = shared;
    for (let i = shared; i < components.length; i++) {
      const parent = i === 0 ? root : this.#chain[i - 1]!;
      try {
        this.#chain.push(openSync(`${DESCRIPTORS}/${parent}/${components[i]}`, DIRECTORY_FLAGS));
        this.#names.push(components[i]!);
      } catch (error) {
        const { code } = error as NodeJS.ErrnoException;
        if (code === "ENOENT") return { refused: "gone" };
        if (code === "ENOTDIR" || code === "ELOOP") return { refused: "failed", error: NOT_INSIDE };
        return { refused: "failed", error: `not deleted: cannot open its directory ${components.slice(0, i + 1).join("/")}: ${messageOf(error, `${DESCRIPTORS}/${parent}/`)}` };
      }
    }
    return { fd: this.#chain.at(-1) ?? root };
  }

  /** The root, opened once per batch: it must still be the directory apply started with. */
  #openRoot(): number | Entered {
    if (this.#rootFd !== undefined) return this.#rootFd;
    let fd: number;
    try {
      fd = openSync(this.#root.path, constants.O_RDONLY | constants.O_DIRECTORY);
    } catch (error) {
      return (this.#rootFd = { refused: "failed", error: `not deleted: cannot open the target root ${this.#root.path}: ${messageOf(error)}` });
    }
    const { dev, ino } = fstatSync(fd);
    if (dev === this.#root.dev && ino === this.#root.ino) return (this.#rootFd = fd);
    closeSync(fd);
    return (this.#rootFd = { refused: "failed", error: NOT_INSIDE });
  }
}

function deleteFiles(handles: DirectoryHandles, files: PackedFiles): PackedOutcomes {
  const paths = files.paths.split("\u0000");
  const packed: PackedOutcomes = { statuses: new Uint8Array(paths.length), detailed: [], details: [] };
  paths.forEach((path, index) => {
    const outcome = deleteFile(handles, { path, size: files.sizes[index]!, mtimeMs: files.mtimesMs[index]! });
    packed.statuses[index] = STATUSES.indexOf(outcome.status);
    const detail = outcome.status === "changed" ? outcome.reason : outcome.status === "failed" ? outcome.error : undefined;
    if (detail === undefined) return;
    packed.detailed.push(index);
    packed.details.push(detail);
  });
  return packed;
}

/** Rename aside, check, unlink (see the module comment), inside the file's directory. */
function deleteFile(handles: DirectoryHandles, expected: ExpectedFile): DeleteOutcome {
  const { path } = expected;
  const entered = handles.enter(parentOf(path));
  if (!("fd" in entered)) return entered.refused === "gone" ? { path, status: "missing" } : { path, status: "failed", error: entered.error };
  const here = `${DESCRIPTORS}/${entered.fd}/`;
  const name = `${here}${nameOf(path)}`;
  const aside = `${name}${ASIDE}`;
  try {
    renameSync(name, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") return { path, status: "failed", error: messageOf(error, here) };
    // Gone, unless an interrupted run left it aside.
    if (lstatSync(aside, { throwIfNoEntry: false }) === undefined) return { path, status: "missing" };
  }
  const change = changeSincePlanning(expected, fileOf(path, lstatSync(aside)));
  if (change !== undefined) {
    putBack(aside, name);
    return { path, status: "changed", reason: change };
  }
  try {
    unlinkSync(aside);
    return { path, status: "deleted" };
  } catch (error) {
    putBack(aside, name);
    return { path, status: "failed", error: messageOf(error, here) };
  }
}

/**
 * Back under its own name, unless a build has meanwhile written a new file there (link refuses
 * to replace it): then the new one is the live copy and the aside one goes.
 */
function putBack(aside: string, name: string): void {
  try {
    linkSync(aside, name);
  } catch (error) {
    // A filesystem without hard links: rename back (only a copy written in the last microseconds could be replaced).
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") return renameSync(aside, name);
  }
  unlinkSync(aside);
}

export function parentOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "" : path.slice(0, slash);
}

function nameOf(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** The error's message with the descriptor's path left out: it names the file as it is in its directory. */
function messageOf(error: unknown, here?: string): string {
  const message = error instanceof Error ? error.message : String(error);
  return here === undefined ? message : message.replaceAll(here, "");
}
