/**
 * Deleting from a local cache without check-then-use gaps.
 *
 * A cache on a shared disk can be written by every build machine while we delete: a hash
 * directory can be swapped for a symlink to somewhere else, and a build can touch a planned file
 * (it uses it) at any moment. So:
 *
 * - Each directory is entered from the root one component at a time (`chdir`), and after each
 *   step the directory we are in must be the very one `lstat` saw (device and inode): a component
 *   that is a symlink, or that was swapped between the look and the step, is refused. Inside, every
 *   name is resolved relative to the directory we are in, which a later swap of the path cannot
 *   change. Node has no `openat`/`unlinkat`; the working directory is the handle we can pin.
 * - A file is first renamed aside (atomic), then checked, then unlinked: a touch before the rename
 *   shows in the check (the file is put back and reported changed), a touch after it finds no
 *   file. There is no moment at which a touched file can be deleted. The aside name is fixed,
 *   `<name>.deleting` (a temp leftover to the sstate grammar), so a run killed between rename and
 *   unlink leaves a file the next run finds and finishes.
 *
 * Everything here is synchronous: the working directory is the process's, so no other work may
 * run between entering a directory and leaving it.
 */
import { linkSync, lstatSync, renameSync, rmdirSync, type Stats, statSync, unlinkSync } from "node:fs";
import process from "node:process";
import type { DeleteOutcome, ExpectedFile, RemoteFile } from "./backend.ts";
import { changeSincePlanning } from "./precondition.ts";

/** Where a file waits between its rename and its unlink. */
const ASIDE = ".deleting";
const NOT_INSIDE = "not deleted: its directory is no longer a directory inside the target root (replaced by a symlink or moved since planning)";

interface Identity {
  dev: number;
  ino: number;
}

/** What an lstat says of a file, as the listing reports it. */
export type FileOf = (path: string, stats: Stats) => RemoteFile;

/** The cache root, entered by its real path, and the identity it must have. */
export class PinnedRoot {
  readonly #realRoot: string;
  readonly #identity: Identity;
  readonly #fileOf: FileOf;

  constructor(realRoot: string, fileOf: FileOf) {
    this.#realRoot = realRoot;
    const stats = statSync(realRoot);
    this.#identity = { dev: stats.dev, ino: stats.ino };
    this.#fileOf = fileOf;
  }

  /** Deletes files of one directory (`dir` relative to the root, "" for the root itself) that are still as expected. */
  deleteFiles(dir: string, files: readonly ExpectedFile[]): DeleteOutcome[] {
    return this.#inside(dir, (entered) => {
      if (entered !== "entered") return files.map(({ path }) => (entered === "gone" ? { path, status: "missing" } : { path, status: "failed", error: NOT_INSIDE }));
      return files.map((expected) => this.#deleteHere(expected));
    });
  }

  /** Removes the named subdirectories of `dir` that are empty (rmdir never removes anything a directory holds). */
  removeEmptyChildren(dir: string, names: readonly string[]): void {
    this.#inside(dir, (entered) => {
      if (entered !== "entered") return;
      for (const name of names) {
        const stats = lstatSync(name, { throwIfNoEntry: false });
        if (!stats?.isDirectory()) continue;
        try {
          rmdirSync(name);
        } catch {
          // Not empty (a build wrote into it), or gone: either way nothing to do.
        }
      }
    });
  }

  #inside<T>(dir: string, work: (entered: "entered" | "gone" | "outside") => T): T {
    const original = process.cwd();
    try {
      return work(this.#enter(dir));
    } finally {
      process.chdir(original);
    }
  }

  /** Enters `dir` component by component, checking each step landed where lstat looked. */
  #enter(dir: string): "entered" | "gone" | "outside" {
    process.chdir(this.#realRoot);
    if (!sameIdentity(statSync("."), this.#identity)) return "outside";
    if (dir === "") return "entered";
    for (const component of dir.split("/")) {
      const seen = lstatSync(component, { throwIfNoEntry: false });
      if (seen === undefined) return "gone";
      if (!seen.isDirectory()) return "outside";
      try {
        process.chdir(component);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return "gone";
        return "outside";
      }
      if (!sameIdentity(statSync("."), seen)) return "outside";
    }
    return "entered";
  }

  /** Rename aside, check, unlink (see the module comment); the current directory is the file's. */
  #deleteHere(expected: ExpectedFile): DeleteOutcome {
    const { path } = expected;
    const name = path.slice(path.lastIndexOf("/") + 1);
    const aside = `${name}${ASIDE}`;
    try {
      renameSync(name, aside);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") return { path, status: "failed", error: messageOf(error) };
      // Gone, unless an interrupted run left it aside.
      if (lstatSync(aside, { throwIfNoEntry: false }) === undefined) return { path, status: "missing" };
    }
    const change = changeSincePlanning(expected, this.#fileOf(path, lstatSync(aside)));
    if (change !== undefined) {
      putBack(aside, name);
      return { path, status: "changed", reason: change };
    }
    try {
      unlinkSync(aside);
      return { path, status: "deleted" };
    } catch (error) {
      putBack(aside, name);
      return { path, status: "failed", error: messageOf(error) };
    }
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

function sameIdentity(stats: Stats, identity: Identity): boolean {
  return stats.dev === identity.dev && stats.ino === identity.ino;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
