/** One upload: list both sides, select, clean what interrupted uploads left on the target, copy. */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { listBackend, type TargetContext, withBackend } from "../backends/open.ts";
import type { Target } from "../backends/registry.ts";
import { listingOf, type ManagedFile } from "../sstate/listing.ts";
import type { ProgressListener } from "../util/progress.ts";
import { type CleanResult, cleanTemporaries, selectUploads, staleUploadTemporaries, uploadFiles, type UploadResult, type UploadSelection } from "./upload.ts";

export interface UploadRunInput {
  source: Target;
  target: Target;
  context: TargetContext;
  /** The --pn/--arch filter. */
  wanted: (file: ManagedFile) => boolean;
  dryRun: boolean;
  concurrency: number;
  /** Stale temporaries are judged against this time (ms). */
  now: number;
  onProgress?: ProgressListener;
}

export interface UploadReport {
  source: string;
  target: string;
  dryRun: boolean;
  selection: UploadSelection;
  /** Temporaries interrupted uploads left on the target, old enough to be nobody's. */
  temporaries: ManagedFile[];
  /** What became of them (not in a dry run). */
  cleaning?: CleanResult;
  /** What was copied (not in a dry run). */
  result?: UploadResult;
}

export async function uploadCache(input: UploadRunInput): Promise<UploadReport> {
  const { source, target, dryRun, onProgress } = input;
  // A new local mirror is a directory that does not exist yet (a dry run creates nothing and sees
  // it empty); the other backends need their bucket or collection to exist.
  const newLocalTarget = target.scheme === "file" && !existsSync(fileURLToPath(target.url));
  if (newLocalTarget && !dryRun) await mkdir(fileURLToPath(target.url), { recursive: true });
  return withBackend(source, input.context, (from) =>
    withBackend(target, input.context, async (to) => {
      const sourceListing = await listBackend(from, { onProgress });
      const targetListing = newLocalTarget && dryRun ? listingOf([]) : await listBackend(to, { onProgress });
      const selection = selectUploads(sourceListing, targetListing, input.wanted);
      const temporaries = staleUploadTemporaries(targetListing, input.now);
      const report: UploadReport = { source: source.url, target: target.url, dryRun, selection, temporaries };
      if (dryRun) return report;
      report.cleaning = await cleanTemporaries(to, temporaries);
      const phase = `uploading to ${target.url}`;
      const total = selection.upload.length;
      report.result = await uploadFiles(from, to, selection.upload, {
        concurrency: input.concurrency,
        onProgress: onProgress && ((done) => onProgress({ phase, done: done.files, total, unit: "files", bytes: done.bytes, totalBytes: selection.uploadBytes })),
      });
      return report;
    }));
}
