import { type Backend, BackendError, type DeleteOutcome, type ExpectedFile, type RemoteFile } from "../backends/backend.ts";
import { changeSincePlanning } from "../backends/precondition.ts";
import type { PlannedFile } from "../plan/plan-file.ts";
import { mapConcurrent } from "../util/concurrency.ts";
import type { FileResult, Outcome } from "./outcome.ts";

/** Paths per deleteMany call at most: S3 DeleteObjects takes at most 1000 keys. */
export const MAX_BATCH_SIZE = 1000;
/** Batches are made smaller than asked, to keep `concurrency` of them in flight, down to this size. */
const MIN_SPREAD_BATCH = 100;

export interface ExecuteOptions {
  backend: Backend;
  /** The planned files to deal with, in plan order (the journal's settled ones already left out). */
  files: readonly PlannedFile[];
  /** What earlier runs settled (from the journal): the archives some of `files` depend on may be among them. */
  earlier: ReadonlyMap<string, FileResult>;
  /** Batches checked or deleted at once. */
  concurrency: number;
  /** Files per deleteMany call (and per journal write), at most MAX_BATCH_SIZE; fewer (down to 100) when the files would not fill `concurrency` batches. */
  batchSize?: number;
  /** Check every file but delete none: unchanged files come back as `would-delete`. */
  dryRun: boolean;
  clock(): Date;
  /** Called with the files of a batch just before their deletion is requested; a rejection stops the run before it. */
  beforeDelete(files: readonly PlannedFile[]): Promise<void>;
  /** Takes each batch's final results (journal them here); a rejection stops the run. */
  onBatch(results: readonly FileResult[]): Promise<void>;
}

/** The run stopped early because the backend kept failing or refused us; what finished was handed to onBatch. */
export class ApplyStoppedError extends Error {
  constructor(cause: unknown, why: string) {
    super(`stopped: ${why} (${messageOf(cause)})`, { cause });
    this.name = "ApplyStoppedError";
  }
}

export function expectedOf(file: PlannedFile): ExpectedFile {
  return { path: file.path, size: file.size, mtimeMs: Date.parse(file.mtime), ...(file.etag !== undefined ? { etag: file.etag } : {}) };
}

/**
 * Deletes the planned files in batches; the backend deletes each only if it is still exactly
 * as planned. A call that throws (the backend has retried within its budget) fails its batch and
 * stops the run.
 *
 * Files whose deletion depends on an archive (`after`) go in a second pass, once that archive's
 * outcome is known: if it was kept (changed since planning) they are kept too; if it could not be
 * deleted they are not attempted and stay unsettled, so a re-run decides them with it.
 */
export async function executePlan(options: ExecuteOptions): Promise<void> {
  const { backend, dryRun, clock } = options;
  let stop: unknown;
  const result = (file: PlannedFile, outcome: Outcome, reason?: string): FileResult => ({
    path: file.path,
    outcome,
    ...(reason !== undefined ? { reason } : {}),
    size: file.size,
    time: clock().toISOString(),
  });
  // A call throws only when the backend gave up on it after its own retries: the server is down or
  // refusing us, not one file bad, and going on would only fail the rest slowly.
  const gaveUp = (error: unknown) => {
    stop ??= new ApplyStoppedError(error, error instanceof BackendError && error.kind === "auth" ? "the server refused the credentials" : "the backend failed even after retrying");
  };

  const check = async (files: readonly PlannedFile[]): Promise<FileResult[]> => {
    const paths = files.map((file) => file.path);
    const current: (RemoteFile | undefined)[] = backend.statMany ? await backend.statMany(paths) : await mapConcurrent(paths, 16, (path) => backend.stat(path));
    return files.map((file, index) => {
      const found = current[index];
      if (found === undefined) return result(file, "missing", "already gone");
      const change = changeSincePlanning(expectedOf(file), found);
      return change === undefined ? result(file, "would-delete") : result(file, "skipped", change);
    });
  };

  const remove = async (files: readonly PlannedFile[]): Promise<FileResult[]> => {
    await options.beforeDelete(files);
    const outcomes = await backend.deleteMany(files.map(expectedOf));
    return files.map((file, index) => resultOf(file, outcomes[index]));
  };
  const resultOf = (file: PlannedFile, outcome: DeleteOutcome | undefined): FileResult => {
    // deleteMany promises one outcome per file; a backend breaking that must not lose a file silently.
    if (outcome === undefined || outcome.path !== file.path) return result(file, "failed", "the backend reported no outcome for it");
    switch (outcome.status) {
      case "deleted":
        return result(file, "deleted");
      case "missing":
        return result(file, "missing", "already gone");
      case "changed":
        return result(file, "skipped", outcome.reason);
      case "failed":
        return result(file, "failed", outcome.error);
    }
  };

  const runBatch = async (batch: readonly PlannedFile[]): Promise<FileResult[]> => {
    if (stop !== undefined) return batch.map((file) => result(file, "failed", "not attempted: the run stopped early"));
    try {
      return dryRun ? await check(batch) : await remove(batch);
    } catch (error) {
      gaveUp(error);
      return batch.map((file) => result(file, "failed", messageOf(error)));
    }
  };

  // Fewer files than `concurrency` full batches fill: spread evenly over up to `concurrency` batches
  // of at least MIN_SPREAD_BATCH, all in flight at once. A server may take the files of one call one
  // after another (radosgw deletes the keys of a DeleteObjects in turn, 1000 in seconds): two full
  // batches would leave six idle. Smaller batches would cost more checks than they save (S3 checks a
  // batch of one with a HeadObject, a bigger one with a listing of its key range).
  const asked = Math.min(options.batchSize ?? MAX_BATCH_SIZE, MAX_BATCH_SIZE);
  const batchSize = Math.min(asked, Math.max(MIN_SPREAD_BATCH, Math.ceil(options.files.length / options.concurrency)));
  const dependedOn = new Set<string>();
  for (const file of options.files) if (file.after !== undefined) dependedOn.add(file.after);
  const outcomes = new Map<string, FileResult>();
  const settle = async (results: readonly FileResult[]) => {
    for (const settled of results) if (dependedOn.has(settled.path)) outcomes.set(settled.path, settled);
    await options.onBatch(results);
  };
  const runAll = (files: readonly PlannedFile[]) =>
    mapConcurrent(batchesOf(files, batchSize), options.concurrency, async (batch) => {
      if (stop !== undefined) return;
      try {
        await settle(await runBatch(batch));
      } catch (error) {
        stop ??= error;
      }
    });

  await runAll(options.files.filter((file) => file.after === undefined));
  if (stop !== undefined) throw stop;
  const ready: PlannedFile[] = [];
  const held: FileResult[] = [];
  for (const file of options.files) {
    if (file.after === undefined) continue;
    const archive = outcomes.get(file.after) ?? options.earlier.get(file.after);
    if (archive !== undefined && GONE.has(archive.outcome)) ready.push(file);
    else if (archive?.outcome === "skipped") held.push(result(file, "skipped", `kept with its archive ${file.after}, which changed since planning`));
    else held.push(result(file, "failed", `not attempted: its archive ${file.after} was not deleted${archive?.reason !== undefined ? ` (${archive.reason})` : ""}`));
  }
  for (const batch of batchesOf(held, batchSize)) await settle(batch);
  await runAll(ready);
  if (stop !== undefined) throw stop;
}

/** An archive with one of these outcomes is gone (or, in a dry run, would go): what depends on it may follow. */
const GONE: ReadonlySet<Outcome> = new Set(["deleted", "missing", "would-delete"]);

function batchesOf<T>(items: readonly T[], size: number): T[][] {
  const batches: T[][] = [];
  for (let start = 0; start < items.length; start += size) batches.push(items.slice(start, start + size));
  return batches;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
