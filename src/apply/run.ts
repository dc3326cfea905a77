/**
 * One apply of a verified plan: where to resume, what to record and in which order, what
 * happened. The CLI only parses arguments, opens what this needs and renders the report.
 */
import { type Backend, BackendError } from "../backends/backend.ts";
import type { PlanFile, PlannedFile, Tally } from "../plan/plan-file.ts";
import { ApplyStoppedError, executePlan } from "./executor.ts";
import type { JsonLinesWriter } from "./json-lines.ts";
import { type FileResult, isSettled } from "./outcome.ts";
import type { ProgressListener } from "../util/progress.ts";

export interface ApplyOptions {
  dryRun: boolean;
  /** Batches in flight. */
  concurrency: number;
  batchSize: number;
}

export interface ApplyInput {
  plan: PlanFile;
  backend: Backend;
  /** What earlier runs of this plan journaled (empty for a first run). */
  earlier: ReadonlyMap<string, FileResult>;
  /** Where each batch's outcomes are made durable; none in a dry run. */
  journal: JsonLinesWriter | undefined;
  /** The audit log (`--log`): every deletion is announced in it before it is made. */
  log: JsonLinesWriter | undefined;
  clock(): Date;
  options: ApplyOptions;
  onProgress?: ProgressListener;
}

export interface ApplyReport {
  /** The plan's digest, as the reviewed PR comment shows it. */
  digest: string;
  target: string;
  dryRun: boolean;
  planned: Tally;
  deleted: Tally;
  wouldDelete: Tally;
  missing: number;
  skipped: FileResult[];
  failed: FileResult[];
  /** Deleted or already gone according to the journal of an earlier run. */
  doneEarlier: number;
  /** Files dealt with by this run so far. */
  checked: number;
  /** Files this run had to deal with. */
  pending: number;
  /** Why the run stopped before the end (credentials refused, server down, journal unwritable). */
  stopped?: string;
  /** What the backend says of the directories it left in place (e.g. a WebDAV server without locks). */
  directoriesNote?: string;
}

/**
 * `ok`: everything planned is gone. `skipped`: finished, some files changed since planning and
 * were kept. `failed`: finished, some deletions failed. `stopped`: ended early.
 */
export type ApplyVerdict = "ok" | "skipped" | "failed" | "stopped";

export function verdictOf(report: ApplyReport): ApplyVerdict {
  if (report.stopped !== undefined) return "stopped";
  if (report.failed.length > 0) return "failed";
  return report.skipped.length > 0 ? "skipped" : "ok";
}

/** A journal or log that cannot be written stops the run: no deletion may go unrecorded. */
export class RecordError extends Error {
  constructor(path: string, cause: unknown) {
    super(`${path}: cannot write (${cause instanceof Error ? cause.message : String(cause)}); stopped so that no deletion goes unrecorded`, { cause });
    this.name = "RecordError";
  }
}

export async function applyPlan(input: ApplyInput): Promise<ApplyReport> {
  const { plan, backend, journal, log, clock, options } = input;
  const report: ApplyReport = {
    digest: plan.integrity,
    target: plan.target,
    dryRun: options.dryRun,
    planned: plan.summary.delete,
    deleted: { files: 0, bytes: 0 },
    wouldDelete: { files: 0, bytes: 0 },
    missing: 0,
    skipped: [],
    failed: [],
    doneEarlier: 0,
    checked: 0,
    pending: 0,
  };
  const { pending, emptied } = resumePoint(plan, input.earlier, report);
  report.pending = pending.length;
  const time = () => clock().toISOString();
  const phase = `${options.dryRun ? "checking" : "applying"} the plan for ${plan.target}`;
  // Deleting costs a request per file, whatever its size: the time left follows the count.
  const progress = () => input.onProgress?.({ phase, done: report.checked, total: report.pending, unit: "files", bytes: options.dryRun ? report.wouldDelete.bytes : report.deleted.bytes });
  progress();

  try {
    await record(log, [{ event: "apply", plan: plan.integrity, target: plan.target, dryRun: options.dryRun, pending: pending.length, time: time() }]);
    await record(log, report.skipped);
    await executePlan({
      backend,
      files: pending,
      earlier: input.earlier,
      concurrency: options.concurrency,
      batchSize: options.batchSize,
      dryRun: options.dryRun,
      clock,
      // The audit log names what is about to be deleted first: whatever disk fills later, no deletion goes unrecorded.
      beforeDelete: (files) => record(log, files.map((file) => ({ path: file.path, outcome: "deleting", size: file.size, time: time() }))),
      onBatch: async (results) => {
        await record(log, results);
        // Counted before the journal write: if that fails, the report still says what was done.
        for (const result of results) tally(report, result, emptied);
        await record(journal, results);
        progress();
      },
    });
    // Directories emptied by an earlier, interrupted run are retried too.
    if (!options.dryRun && backend.removeEmptyDirs && emptied.size > 0) {
      input.onProgress?.({ phase: `removing the directories the deletions emptied in ${plan.target}`, done: 0, total: emptied.size, unit: "directories" });
    }
    const note = options.dryRun ? undefined : await backend.removeEmptyDirs?.([...emptied]);
    if (note) report.directoriesNote = note;
  } catch (error) {
    if (!(error instanceof ApplyStoppedError || error instanceof RecordError || error instanceof BackendError)) throw error;
    report.stopped = error.message;
  }
  // Named by its plan like the first line: a log that several runs append to says which plan each summary is of.
  const outcome = options.dryRun ? { wouldDelete: report.wouldDelete } : { deleted: report.deleted };
  await record(log, [{
    event: "summary",
    plan: plan.integrity,
    verdict: verdictOf(report),
    ...outcome,
    missing: report.missing,
    skipped: report.skipped.length,
    failed: report.failed.length,
    time: time(),
  }]).catch(
    () => undefined,
  );
  return report;
}

/** The planned files still to do after earlier runs, and the directories those runs may have emptied. */
function resumePoint(plan: PlanFile, earlier: ReadonlyMap<string, FileResult>, report: ApplyReport): { pending: PlannedFile[]; emptied: Set<string> } {
  const pending: PlannedFile[] = [];
  const emptied = new Set<string>();
  for (const file of plan.delete) {
    const previous = earlier.get(file.path);
    if (previous === undefined || !isSettled(previous.outcome)) pending.push(file);
    else if (previous.outcome === "skipped") report.skipped.push(previous);
    else {
      report.doneEarlier++;
      addParent(emptied, file.path);
    }
  }
  return { pending, emptied };
}

function tally(report: ApplyReport, result: FileResult, emptied: Set<string>): void {
  report.checked++;
  switch (result.outcome) {
    case "deleted":
      report.deleted.files++;
      report.deleted.bytes += result.size;
      addParent(emptied, result.path);
      break;
    case "would-delete":
      report.wouldDelete.files++;
      report.wouldDelete.bytes += result.size;
      break;
    case "missing":
      report.missing++;
      addParent(emptied, result.path);
      break;
    case "skipped":
      report.skipped.push(result);
      break;
    case "failed":
      report.failed.push(result);
      break;
  }
}

function addParent(dirs: Set<string>, path: string): void {
  const slash = path.lastIndexOf("/");
  if (slash > 0) dirs.add(path.slice(0, slash));
}

async function record(writer: JsonLinesWriter | undefined, records: readonly object[]): Promise<void> {
  if (writer === undefined) return;
  try {
    await writer.append(records);
  } catch (error) {
    throw new RecordError(writer.path, error);
  }
}
