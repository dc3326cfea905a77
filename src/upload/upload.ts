/**
 * Pushes a cache to another one under the same relative paths (isar-sstate `upload`), skipping
 * what the target already has according to ONE listing of it rather than a request per file.
 */
import type { Backend } from "../backends/backend.ts";
import type { Tally } from "../plan/plan-file.ts";
import { isManaged, type Listing, type ManagedFile } from "../sstate/listing.ts";
import { isUploadTemporary } from "../sstate/name.ts";
import { ByteBudget, mapConcurrent } from "../util/concurrency.ts";
import { compareCodeUnits } from "../util/compare.ts";

export interface UploadSelection {
  /** In path order. */
  upload: ManagedFile[];
  uploadBytes: number;
  /** On the target under the same path already (whatever its content: nothing is overwritten). */
  existing: Tally;
  /** Left out by the --pn/--arch filters. */
  filtered: Tally;
  /** Interrupted writes: never uploaded. */
  temp: Tally;
  /** Not sstate files: never uploaded. */
  unmanaged: Tally;
}

/** Which source files go to the target; `wanted` is the --pn/--arch filter. */
export function selectUploads(source: Listing, target: Listing, wanted: (file: ManagedFile) => boolean): UploadSelection {
  const onTarget = new Set<string>();
  for (let i = 0; i < target.count; i++) onTarget.add(target.path(i));
  const tally = (): Tally => ({ files: 0, bytes: 0 });
  const selection: UploadSelection = { upload: [], uploadBytes: 0, existing: tally(), filtered: tally(), temp: tally(), unmanaged: tally() };
  const add = (into: Tally, size: number) => {
    into.files++;
    into.bytes += size;
  };
  for (const file of source.objects()) {
    if (!isManaged(file)) add(selection.unmanaged, file.size);
    else if (file.name.kind === "temp") add(selection.temp, file.size);
    else if (!wanted(file)) add(selection.filtered, file.size);
    else if (onTarget.has(file.path)) add(selection.existing, file.size);
    else {
      selection.upload.push(file);
      selection.uploadBytes += file.size;
    }
  }
  return selection;
}

export interface UploadFailure {
  path: string;
  error: string;
}

export interface UploadResult {
  uploaded: Tally;
  failed: UploadFailure[];
}

export interface UploadOptions {
  concurrency: number;
  /** Called after each object, uploaded or failed. */
  onProgress?: (done: Tally) => void;
}

/** Whole objects are held in memory while they are copied; this bounds the sum over concurrent copies. */
const MAX_BYTES_IN_FLIGHT = 1024 ** 3;

/**
 * Copies the selected files. Companions go first and archives after them, so that once an
 * archive is visible (which is what a build checks) its .siginfo and .sig are there too.
 * backend.put never leaves a partial object under the final name; a failure is reported and
 * the rest carries on.
 */
export async function uploadFiles(source: Backend, target: Backend, files: readonly ManagedFile[], options: UploadOptions): Promise<UploadResult> {
  const result: UploadResult = { uploaded: { files: 0, bytes: 0 }, failed: [] };
  const done: Tally = { files: 0, bytes: 0 };
  const budget = new ByteBudget(MAX_BYTES_IN_FLIGHT);
  const copy = (file: ManagedFile) =>
    budget.use(file.size, async () => {
      try {
        const data = await source.get(file.path);
        await target.put(file.path, data);
        result.uploaded.files++;
        result.uploaded.bytes += data.length;
      } catch (error) {
        result.failed.push({ path: file.path, error: error instanceof Error ? error.message : String(error) });
      }
      done.files++;
      done.bytes += file.size;
      options.onProgress?.(done);
    });
  await mapConcurrent(files.filter((file) => file.name.kind !== "archive"), options.concurrency, copy);
  await mapConcurrent(files.filter((file) => file.name.kind === "archive"), options.concurrency, copy);
  result.failed.sort((a, b) => compareCodeUnits(a.path, b.path));
  return result;
}

/** A temporary younger than this may belong to an upload still running (a large object on a slow link): left alone. */
export const STALE_TEMPORARY_MS = 3_600_000;

/** The temporaries that killed uploads left on the target (`<name>.keeper-<8 hex>`), older than STALE_TEMPORARY_MS. */
export function staleUploadTemporaries(target: Listing, now: number): ManagedFile[] {
  return [...target.objects()].filter((file): file is ManagedFile => isManaged(file) && isUploadTemporary(file.name) && now - file.mtimeMs > STALE_TEMPORARY_MS);
}

export interface CleanResult {
  cleaned: Tally;
  /** Rewritten since listed: an upload is using the name after all. */
  inUse: number;
  failed: UploadFailure[];
}

/** Deletes stale temporaries, each only if it is still as listed (the backend's deleteMany check). */
export async function cleanTemporaries(target: Backend, temporaries: readonly ManagedFile[]): Promise<CleanResult> {
  const result: CleanResult = { cleaned: { files: 0, bytes: 0 }, inUse: 0, failed: [] };
  if (temporaries.length === 0) return result;
  const outcomes = await target.deleteMany(temporaries.map(({ path, size, mtimeMs, etag }) => ({ path, size, mtimeMs, ...(etag !== undefined ? { etag } : {}) })));
  outcomes.forEach((outcome, i) => {
    if (outcome.status === "deleted" || outcome.status === "missing") {
      result.cleaned.files++;
      result.cleaned.bytes += temporaries[i]!.size;
    } else if (outcome.status === "changed") result.inUse++;
    else result.failed.push({ path: outcome.path, error: outcome.error });
  });
  return result;
}
