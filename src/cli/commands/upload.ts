import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { Tally } from "../../plan/plan-file.ts";
import { count, tally } from "../../plan/render/format.ts";
import { formatBytes, formatDuration } from "../../util/units.ts";
import { listingOf, type ManagedFile } from "../../sstate/listing.ts";
import {
  cleanTemporaries,
  selectUploads,
  STALE_TEMPORARY_MS,
  staleUploadTemporaries,
  uploadFiles,
  type CleanResult,
  type UploadResult,
  type UploadSelection,
} from "../../upload/upload.ts";
import { concurrencyOption, globOption, parseCommandArgs, timeoutOption } from "../args.ts";
import { EXIT, progressLine, UserError, type CommandIo } from "../io.ts";
import { listTarget, targetOf, withBackend } from "../listing-input.ts";

const USAGE = "sstate-keeper upload SRC TARGET [--pn GLOB]… [--arch GLOB]… [--dry-run] [--concurrency N] [--timeout 15s]";
const DEFAULT_CONCURRENCY = 8;

/** isar-sstate upload: copies what the target lacks, under the same relative paths. */
export async function uploadCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    "upload",
    argv,
    {
      pn: { type: "string", multiple: true },
      arch: { type: "string", multiple: true },
      "dry-run": { type: "boolean", short: "n" },
      concurrency: { type: "string", short: "j" },
      timeout: { type: "string" },
    },
    USAGE,
  );
  if (positionals.length !== 2) throw new UserError(`upload: name the source cache and the target\nusage: ${USAGE}`);
  const pnMatches = globOption("pn", values.pn);
  const archMatches = globOption("arch", values.arch);
  const wanted = (file: ManagedFile) => pnMatches(file.name.pn) && archMatches(file.name.arch);
  const concurrency = concurrencyOption(values.concurrency, DEFAULT_CONCURRENCY);
  const dryRun = values["dry-run"] === true;
  const timeouts = timeoutOption(values.timeout);
  const source = targetOf(io, positionals[0], "source");
  const target = targetOf(io, positionals[1], "target");
  // A new local mirror is a directory that does not exist yet (a dry run creates nothing and sees
  // it empty); the other backends need their bucket or collection to exist.
  const newLocalTarget = target.scheme === "file" && !existsSync(fileURLToPath(target.url));
  if (newLocalTarget && !dryRun) await mkdir(fileURLToPath(target.url), { recursive: true });

  return withBackend(io, source, (from) =>
    withBackend(io, target, async (to) => {
      const sourceListing = await listTarget(io, from);
      const targetListing = newLocalTarget && dryRun ? listingOf([]) : await listTarget(io, to);
      const selection = selectUploads(sourceListing, targetListing, wanted);
      const filters = [...(values.pn ?? []).map((glob) => `--pn ${glob}`), ...(values.arch ?? []).map((glob) => `--arch ${glob}`)];
      const temporaries = staleUploadTemporaries(targetListing, io.clock().getTime());
      const stale: Tally = { files: temporaries.length, bytes: temporaries.reduce((sum, file) => sum + file.size, 0) };
      if (dryRun) {
        for (const file of selection.upload) io.stdout(`would upload ${file.path} (${formatBytes(file.size)})\n`);
        for (const file of temporaries) io.stdout(`would clean ${file.path} (left by an interrupted upload)\n`);
        io.stdout(renderSummary(`Dry run: upload ${source.url} → ${target.url}`, selection, filters, undefined, stale.files > 0 ? leftoversSummary("would clean", stale) : undefined));
        return EXIT.ok;
      }
      const cleaning = await cleanTemporaries(to, temporaries);
      for (const failure of cleaning.failed) io.stderr(`cleaning an interrupted upload's temporary failed: ${failure.path}: ${failure.error}\n`);
      const progress = progressLine(io);
      const total = `${count(selection.upload.length)} files, ${formatBytes(selection.uploadBytes)}`;
      let result: UploadResult;
      try {
        result = await uploadFiles(from, to, selection.upload, {
          concurrency,
          onProgress: (done) => progress.update(`uploading to ${target.url}: ${count(done.files)} files, ${formatBytes(done.bytes)} of ${total}`),
        });
      } finally {
        progress.done();
      }
      for (const failure of result.failed) io.stderr(`upload failed: ${failure.path}: ${failure.error}\n`);
      io.stdout(renderSummary(`Upload ${source.url} → ${target.url}`, selection, filters, result, stale.files > 0 ? leftoversSummary("cleaned", cleaning.cleaned, cleaning) : undefined));
      return result.failed.length > 0 || cleaning.failed.length > 0 ? EXIT.failed : EXIT.ok;
    }, timeouts),
  timeouts);
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
