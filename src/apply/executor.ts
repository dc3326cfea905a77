import type { Backend, DeleteOutcome, RemoteFile } from "../backends/backend.ts";
import type { PlannedFile } from "../plan/plan-file.ts";
import { mapConcurrent } from "../util/concurrency.ts";
import type { FileResult, Outcome } from "./outcome.ts";
import { changeSincePlanning } from "./precondition.ts";
import { DEFAULT_RETRY, retrying, type RetryPolicy } from "./retry.ts";

/** Paths per deleteMany call at most: S3 DeleteObjects takes at most 1000 keys. */
export const MAX_BATCH_SIZE = 1000;
/**
 * Batches checked or deleted at once: one batch's checks overlap another's delete request, and
 * where a batch is checked with one listing (S3) this is what keeps ≥ 8 requests in flight.
 */
const BATCHES_IN_FLIGHT = 8;
/**
 * Operations in a row that still threw after every retry before the run stops: by then the
 * backend is down or refusing us, not one file bad, and going on would only fail the rest slowly.
 */
const GIVE_UPS_BEFORE_STOPPING = 3;

export interface ExecuteOptions {
  backend: Backend;
  /** The planned files to deal with, in plan order (the journal's settled ones already left out). */
  files: readonly PlannedFile[];
  /** Stat checks in flight at most, over all batches. */
  concurrency: number;
  /** Files per deleteMany call (and per journal write), at most MAX_BATCH_SIZE. */
  batchSize?: number;
  /** Check every file but delete none: unchanged files come back as `would-delete`. */
  dryRun: boolean;
  clock(): Date;
  /** Takes each batch's final results (journal them here); a rejection stops the run. */
  onBatch(results: readonly FileResult[]): Promise<void>;
  retry?: RetryPolicy;
}

/** The run stopped early because the backend kept failing; what finished was handed to onBatch. */
export class ApplyStoppedError extends Error {
  constructor(cause: unknown) {
    super(`stopped: ${GIVE_UPS_BEFORE_STOPPING} backend requests in a row failed even after retrying (last error: ${messageOf(cause)})`, { cause });
    this.name = "ApplyStoppedError";
  }
}

/**
 * Deletes the planned files in batches: each file is stat'ed first and deleted only if it is
 * still exactly as planned; the unchanged ones of a batch go to one deleteMany call. Throttling,
 * transient failures and thrown errors are retried with backoff; a file that still fails is
 * reported failed and the others carry on.
 */
export async function executePlan(options: ExecuteOptions): Promise<void> {
  const { backend, dryRun, clock } = options;
  const retry = options.retry ?? DEFAULT_RETRY;
  const statSlot = limiter(options.concurrency);
  let giveUpsInARow = 0;
  let stop: unknown;
  const succeeded = () => (giveUpsInARow = 0);
  const gaveUp = (error: unknown) => {
    if (++giveUpsInARow >= GIVE_UPS_BEFORE_STOPPING) stop ??= new ApplyStoppedError(error);
  };
  const result = (file: PlannedFile, outcome: Outcome, reason?: string): FileResult => ({
    path: file.path,
    outcome,
    ...(reason !== undefined ? { reason } : {}),
    size: file.size,
    time: clock().toISOString(),
  });

  /** Reads the current state of `count` files with retries; a read that still fails fails all of them. */
  const readWithRetries = async (read: () => Promise<(RemoteFile | undefined)[]>, count: number): Promise<CurrentState[]> => {
    let current: (RemoteFile | undefined)[] = [];
    const { error } = await retrying(
      [read],
      async () => {
        current = await read();
        return [];
      },
      retry,
    );
    if (error !== undefined) {
      gaveUp(error);
      return Array.from({ length: count }, () => ({ error }));
    }
    succeeded();
    return current.map((file) => ({ file }));
  };

  /**
   * Each file's result if its check settles it, undefined if it is still as planned (delete it).
   * One statMany for the batch where the backend has it, else a stat per file (one file that
   * cannot be read then fails alone).
   */
  const check = async (files: readonly PlannedFile[]): Promise<(FileResult | undefined)[]> => {
    if (stop !== undefined) return files.map((file) => result(file, "failed", "not checked: the run stopped early"));
    const statMany = backend.statMany?.bind(backend);
    const states = statMany
      ? await readWithRetries(() => statMany(files.map((file) => file.path)), files.length)
      : (await Promise.all(files.map((file) => statSlot(() => readWithRetries(async () => [await backend.stat(file.path)], 1))))).flat();
    return files.map((file, index) => {
      const state = states[index]!;
      if ("error" in state) return result(file, "failed", `cannot check it: ${messageOf(state.error)}`);
      if (state.file === undefined) return result(file, "missing", "already gone");
      const change = changeSincePlanning(file, state.file);
      return change === undefined ? undefined : result(file, "skipped", change);
    });
  };

  const remove = async (files: readonly PlannedFile[]): Promise<FileResult[]> => {
    if (files.length === 0) return [];
    if (dryRun) return files.map((file) => result(file, "would-delete"));
    const reported = new Map<string, DeleteOutcome>();
    const { unsettled, error } = await retrying(
      files.map((file) => file.path),
      async (paths) => {
        const outcomes = await backend.deleteMany(paths);
        succeeded();
        for (const outcome of outcomes) reported.set(outcome.path, outcome);
        return outcomes.filter((outcome) => outcome.status === "failed" && outcome.transient).map((outcome) => outcome.path);
      },
      retry,
    );
    if (error !== undefined) gaveUp(error);
    const failedByThrow = new Set(error !== undefined ? unsettled : []);
    return files.map((file) => {
      const outcome = reported.get(file.path);
      if (failedByThrow.has(file.path)) return result(file, "failed", `delete request failed: ${messageOf(error)}`);
      // deleteMany promises one outcome per path; a backend breaking that must not lose a file silently.
      if (outcome === undefined) return result(file, "failed", "the backend reported no outcome for it");
      if (outcome.status === "failed") return result(file, "failed", outcome.transient ? `${outcome.error} (still failing after ${retry.attempts} attempts)` : outcome.error);
      return outcome.status === "missing" ? result(file, "missing", "already gone") : result(file, "deleted");
    });
  };

  const runBatch = async (batch: readonly PlannedFile[]): Promise<FileResult[]> => {
    const checked = await check(batch);
    const unchanged = batch.filter((_, index) => checked[index] === undefined);
    const removed = new Map((await remove(unchanged)).map((removal) => [removal.path, removal]));
    return batch.map((file, index) => checked[index] ?? removed.get(file.path)!);
  };

  await mapConcurrent(batchesOf(options.files, Math.min(options.batchSize ?? MAX_BATCH_SIZE, MAX_BATCH_SIZE)), BATCHES_IN_FLIGHT, async (batch) => {
    if (stop !== undefined) return;
    try {
      await options.onBatch(await runBatch(batch));
    } catch (error) {
      stop ??= error;
    }
  });
  if (stop !== undefined) throw stop;
}

type CurrentState = { file: RemoteFile | undefined } | { error: unknown };

function batchesOf<T>(items: readonly T[], size: number): T[][] {
  const batches: T[][] = [];
  for (let start = 0; start < items.length; start += size) batches.push(items.slice(start, start + size));
  return batches;
}

/** Runs at most `limit` tasks at once, however many callers queue them. */
function limiter(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    while (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await task();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
