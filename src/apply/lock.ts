/**
 * One writer at a time: a lock file next to the journal (and one per target on this machine)
 * that a second apply finds and refuses. It names its holder (process, host, start), so a lock
 * left by a killed process (kill -9, a lost runner) is recognised as stale on the same host —
 * its process no longer exists — and taken over; on another host it is reported, never guessed.
 */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { link, open, readFile, rename, stat, unlink } from "node:fs/promises";
import process from "node:process";

/** Another apply holds the lock (exit 3). */
export class LockedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LockedError";
  }
}

interface Holder {
  pid: number;
  host: string;
  startedAt: string;
  /** Tells this acquisition from any other, even of the same process. */
  nonce: string;
}

export interface Lock {
  readonly path: string;
  release(): Promise<void>;
}

const TAKEOVER_ATTEMPTS = 3;

/** Takes the lock at `path` for this process; `what` names the locked thing in messages ("journal plan.json.journal"). */
export async function acquireLock(path: string, what: string, now: Date): Promise<Lock> {
  const mine: Holder = { pid: process.pid, host: hostname(), startedAt: now.toISOString(), nonce: randomBytes(8).toString("hex") };
  const text = `${JSON.stringify(mine)}\n`;
  for (let attempt = 1;; attempt++) {
    try {
      const handle = await open(path, "wx");
      try {
        await handle.writeFile(text);
        await handle.sync();
      } finally {
        await handle.close();
      }
      return { path, release: () => unlink(path).catch(() => undefined) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const held = await readFile(path, "utf8").catch(() => undefined);
    if (held === undefined) continue; // released meanwhile: try again
    const holder = parseHolder(held);
    if (holder === undefined && (await isFresh(path))) throw new LockedError(`another apply is just taking the ${what} (${path}); wait for it to finish`);
    if (holder !== undefined && (holder.host !== mine.host || isRunning(holder.pid))) {
      throw new LockedError(
        `another apply (process ${holder.pid} on ${holder.host}, since ${holder.startedAt}) is using the ${what}; wait for it to finish${
          holder.host === mine.host ? "" : `, or if it is gone for good (that host is not this one), remove ${path}`
        }`,
      );
    }
    if (attempt >= TAKEOVER_ATTEMPTS) throw new LockedError(`the ${what} is locked by ${path}, which could not be taken over; remove it if no apply is running`);
    await takeOverStale(path, held);
  }
}

/**
 * Moves a stale lock aside (only one taker can move it) and drops it if it is still the stale
 * one; if another apply replaced it meanwhile, its fresh lock is put back.
 */
async function takeOverStale(path: string, staleText: string): Promise<void> {
  const aside = `${path}.stale-${randomBytes(4).toString("hex")}`;
  try {
    await rename(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  const moved = await readFile(aside, "utf8");
  if (moved !== staleText) await link(aside, path).catch(() => undefined);
  await unlink(aside);
}

function parseHolder(text: string): Holder | undefined {
  try {
    const value = JSON.parse(text) as Partial<Holder>;
    return typeof value.pid === "number" && typeof value.host === "string" && typeof value.startedAt === "string" ? (value as Holder) : undefined;
  } catch {
    // Cut short by a crash while it was written: its writer never got to work.
    return undefined;
  }
}

/** A lock without a readable holder is being written right now, unless it is older than this. */
const WRITING_GRACE_MS = 10_000;

/** Against the real clock: the file's mtime is. */
async function isFresh(path: string): Promise<boolean> {
  const stats = await stat(path).catch(() => undefined);
  return stats !== undefined && Date.now() - stats.mtimeMs < WRITING_GRACE_MS;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
