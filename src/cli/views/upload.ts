import type { Tally } from "../../plan/plan-file.ts";
import { count, tally } from "../../plan/render/format.ts";
import type { UploadReport } from "../../upload/run.ts";
import { type CleanResult, STALE_TEMPORARY_MS, type UploadResult, type UploadSelection } from "../../upload/upload.ts";
import { formatBytes, formatDuration } from "../../util/units.ts";
import type { Io } from "../io.ts";

/** Prints what the upload did (or would do); returns whether anything failed. */
export function showUploadReport(io: Io, report: UploadReport, filters: string[]): boolean {
  const { selection, temporaries, cleaning, result } = report;
  const stale: Tally = { files: temporaries.length, bytes: temporaries.reduce((sum, file) => sum + file.size, 0) };
  if (report.dryRun) {
    for (const file of selection.upload) io.stdout(`would upload ${file.path} (${formatBytes(file.size)})\n`);
    for (const file of temporaries) io.stdout(`would clean ${file.path} (left by an interrupted upload)\n`);
    io.stdout(renderSummary(`Dry run: upload ${report.source} → ${report.target}`, selection, filters, undefined, stale.files > 0 ? leftoversSummary("would clean", stale) : undefined));
    return false;
  }
  for (const failure of cleaning!.failed) io.stderr(`cleaning an interrupted upload's temporary failed: ${failure.path}: ${failure.error}\n`);
  for (const failure of result!.failed) io.stderr(`upload failed: ${failure.path}: ${failure.error}\n`);
  io.stdout(renderSummary(`Upload ${report.source} → ${report.target}`, selection, filters, result, stale.files > 0 ? leftoversSummary("cleaned", cleaning!.cleaned, cleaning) : undefined));
  return result!.failed.length > 0 || cleaning!.failed.length > 0;
}

/** What became of the target's stale upload temporaries (or would, in a dry run). */
function leftoversSummary(verb: string, cleaned: Tally, cleaning?: CleanResult): string {
  const notes = [
    ...(cleaning && cleaning.inUse > 0 ? [`${count(cleaning.inUse)} rewritten since listed, left alone`] : []),
    ...(cleaning && cleaning.failed.length > 0 ? [`${count(cleaning.failed.length)} failed (each named above)`] : []),
  ];
  return `${verb} ${tally(cleaned)} left by uploads interrupted over ${formatDuration(STALE_TEMPORARY_MS)} ago${notes.map((note) => `; ${note}`).join("")}`;
}

/**
 * `result` is undefined for a dry run: the selection is then what would be uploaded.
 * `leftovers` says what became of the target's stale upload temporaries, if it had any.
 */
function renderSummary(title: string, selection: UploadSelection, filters: string[], result: UploadResult | undefined, leftovers: string | undefined): string {
  const rows: [string, string][] = [];
  if (result) {
    rows.push(["uploaded", tally(result.uploaded)]);
    if (result.failed.length > 0) rows.push(["failed", `${count(result.failed.length)} files (each named above)`]);
  } else {
    rows.push(["would upload", `${count(selection.upload.length)} files, ${formatBytes(selection.uploadBytes)}`]);
  }
  rows.push(["skipped existing", tally(selection.existing)]);
  if (filters.length > 0) rows.push(["filtered out", `${tally(selection.filtered)} (${filters.join(" ")})`]);
  rows.push(["never uploaded", `${count(selection.temp.files)} temp leftovers, ${count(selection.unmanaged.files)} unmanaged files`]);
  if (leftovers !== undefined) rows.push(["target leftovers", leftovers]);
  return `${title}\n${rows.map(([label, text]) => `  ${label.padEnd(17)} ${text}\n`).join("")}`;
}
