import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { ApplyStoppedError, executePlan, MAX_BATCH_SIZE } from "../../apply/executor.ts";
import { JsonLinesWriter } from "../../apply/json-lines.ts";
import { JournalError, openJournal, readJournal, type JournalState } from "../../apply/journal.ts";
import { isSettled, type FileResult } from "../../apply/outcome.ts";
import { verifyPlan } from "../../apply/verify.ts";
import type { PlanFile, PlannedFile } from "../../plan/plan-file.ts";
import { parsePlan } from "../../plan/read-plan.ts";
import { count, tally } from "../../plan/render/format.ts";
import { formatBytes } from "../../policy/units.ts";
import { concurrencyOption, parseCommandArgs, timeoutOption, wholeNumberOption } from "../args.ts";
import { EXIT, progressLine, UserError, type CommandIo } from "../io.ts";
import { targetOf, withBackend } from "../listing-input.ts";
import { readPlanText } from "./show.ts";

const USAGE = "sstate-keeper apply PLAN [--target URL] [--policy P] [--journal F] [--log F] [--concurrency N] [--batch-size N] [--dry-run]";
/** Batches in flight: one batch's checks overlap another's delete request. */
const DEFAULT_CONCURRENCY = 8;
/** Skipped and failed files listed in the summary; --log has every one. */
const LISTED_PROBLEMS = 20;

interface Totals {
  deleted: { files: number; bytes: number };
  wouldDelete: { files: number; bytes: number };
  missing: number;
  skipped: FileResult[];
  failed: FileResult[];
  /** Deleted or already gone according to the journal of an earlier run. */
  doneEarlier: number;
  checked: number;
}

export async function applyCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    "apply",
    argv,
    {
      target: { type: "string", short: "t" },
      policy: { type: "string", short: "p" },
      journal: { type: "string" },
      log: { type: "string" },
      concurrency: { type: "string", short: "j" },
      "batch-size": { type: "string" },
      "dry-run": { type: "boolean", short: "n" },
      timeout: { type: "string" },
    },
    USAGE,
  );
  if (positionals.length !== 1) throw new UserError(`apply: name one plan file\nusage: ${USAGE}`);
  const planArg = positionals[0]!;
  const concurrency = concurrencyOption(values.concurrency, DEFAULT_CONCURRENCY);
  const batchSize = wholeNumberOption("batch-size", values["batch-size"], MAX_BATCH_SIZE, MAX_BATCH_SIZE);
  const dryRun = values["dry-run"] === true;
  const timeouts = timeoutOption(values.timeout);

  const plan = parsePlan(await readPlanText(io, planArg), planArg);
  const target = targetOf(io, values.target ?? plan.target);
  const rejection = verifyPlan(plan, {
    now: io.clock(),
    targetUrl: values.target === undefined ? undefined : target.url,
    policySha256: values.policy === undefined ? undefined : await policyDigest(io, values.policy),
  });
  if (rejection) throw new UserError(`${planArg}: ${rejection.message}`, rejection.kind === "tampered" ? EXIT.invalidInput : EXIT.refused);

  const journalPath = resolve(io.cwd, values.journal ?? `${planArg}.journal`);
  const earlier = await readJournal(journalPath, plan.integrity).catch(asUserError);
  const totals: Totals = { deleted: { files: 0, bytes: 0 }, wouldDelete: { files: 0, bytes: 0 }, missing: 0, skipped: [], failed: [], doneEarlier: 0, checked: 0 };
  const { pending, emptied } = resumePoint(plan, earlier, totals);

  const journal = dryRun ? undefined : await openJournal(earlier, plan, io.clock()).catch(asUserError);
  const log = values.log === undefined ? undefined : await JsonLinesWriter.open(resolve(io.cwd, values.log), { durable: false }).catch(asUserError);
  const progress = progressLine(io);
  let stopped: Error | undefined;
  try {
    await appendOrStop(log, totals.skipped);
    await withBackend(io, target, async (backend) => {
      try {
        await executePlan({
          backend,
          files: pending,
          concurrency,
          batchSize,
          dryRun,
          clock: io.clock,
          // The audit log names what is about to be deleted first: whatever disk fills later, no deletion goes unrecorded.
          beforeDelete: (files) => appendOrStop(log, files.map((file) => ({ path: file.path, outcome: "deleting", size: file.size, time: io.clock().toISOString() }))),
          onBatch: async (results) => {
            await appendOrStop(journal, results);
            await appendOrStop(log, results);
            for (const result of results) add(totals, result, emptied);
            progress.update(`${dryRun ? "checking" : "applying"} ${planArg}: ${count(totals.checked)} of ${count(pending.length)} files, ${formatBytes(totals.deleted.bytes)} freed`);
          },
        });
      } catch (error) {
        if (!(error instanceof ApplyStoppedError || error instanceof UserError)) throw error;
        stopped = error;
      }
      // Directories emptied by an earlier, interrupted run are retried too.
      const note = !dryRun && !stopped ? await backend.removeEmptyDirs?.([...emptied]) : undefined;
      if (note) io.stderr(`${note}\n`);
    }, timeouts);
  } finally {
    progress.done();
    await journal?.close();
    await log?.close();
  }

  io.stdout(renderSummary(plan, totals, { planArg, dryRun, journalPath: journal ? journalPath : undefined }));
  if (stopped) {
    io.stderr(`${stopped.message}\nWhat finished is recorded in ${journalPath}; run the same apply again to finish the rest.\n`);
    return EXIT.runtime;
  }
  if (totals.failed.length > 0) {
    io.stderr(`apply ${dryRun ? "would fail" : "failed"} for ${count(totals.failed.length)} files (run apply again to retry them; a person should look at why)${totals.skipped.length > 0 ? `; ${count(totals.skipped.length)} skipped (changed since planning: kept)` : ""}\n`);
    return EXIT.failed;
  }
  if (totals.skipped.length > 0) {
    io.stderr(`${dryRun ? "dry run: " : "apply finished: "}${count(totals.skipped.length)} files ${dryRun ? "would be " : ""}skipped because they changed since planning (kept; a new plan reconsiders them)\n`);
    return EXIT.skipped;
  }
  return EXIT.ok;
}

/** The planned files still to do after earlier runs, and the directories those runs may have emptied. */
function resumePoint(plan: PlanFile, earlier: JournalState, totals: Totals): { pending: PlannedFile[]; emptied: Set<string> } {
  const pending: PlannedFile[] = [];
  const emptied = new Set<string>();
  for (const file of plan.delete) {
    const previous = earlier.previous.get(file.path);
    if (previous === undefined || !isSettled(previous.outcome)) pending.push(file);
    else if (previous.outcome === "skipped") totals.skipped.push(previous);
    else {
      totals.doneEarlier++;
      addParent(emptied, file.path);
    }
  }
  return { pending, emptied };
}

function add(totals: Totals, result: FileResult, emptied: Set<string>): void {
  totals.checked++;
  switch (result.outcome) {
    case "deleted":
      totals.deleted.files++;
      totals.deleted.bytes += result.size;
      addParent(emptied, result.path);
      break;
    case "would-delete":
      totals.wouldDelete.files++;
      totals.wouldDelete.bytes += result.size;
      break;
    case "missing":
      totals.missing++;
      addParent(emptied, result.path);
      break;
    case "skipped":
      totals.skipped.push(result);
      break;
    case "failed":
      totals.failed.push(result);
      break;
  }
}

function addParent(dirs: Set<string>, path: string): void {
  const slash = path.lastIndexOf("/");
  if (slash > 0) dirs.add(path.slice(0, slash));
}

function renderSummary(plan: PlanFile, totals: Totals, context: { planArg: string; dryRun: boolean; journalPath: string | undefined }): string {
  const out: string[] = [];
  const row = (label: string, text: string) => out.push(`  ${label.padEnd(13)} ${text}`);
  const files = (n: number) => `${count(n)} file${n === 1 ? "" : "s"}`;
  if (context.dryRun) {
    out.push(`dry run of ${context.planArg} on ${plan.target}: nothing was deleted`);
    row("would delete", tally(totals.wouldDelete));
  } else {
    out.push(`applied ${context.planArg} to ${plan.target}`);
    row("deleted", `${files(totals.deleted.files)}, ${formatBytes(totals.deleted.bytes)} freed`);
  }
  row("already gone", files(totals.missing));
  row("skipped", `${files(totals.skipped.length)} (changed since planning, kept)`);
  row("failed", files(totals.failed.length));
  if (totals.doneEarlier > 0) row("done earlier", `${files(totals.doneEarlier)} (by an earlier run${context.journalPath ? `, journal ${context.journalPath}` : ""})`);
  const list = (title: string, results: FileResult[]) => {
    if (results.length === 0) return;
    out.push("", `${title}:`);
    for (const result of results.slice(0, LISTED_PROBLEMS)) out.push(`  - ${result.path}: ${result.reason}`);
    if (results.length > LISTED_PROBLEMS) out.push(`  … and ${count(results.length - LISTED_PROBLEMS)} more (--log FILE records every file)`);
  };
  list("skipped (a new plan reconsiders them)", totals.skipped);
  list("failed (run apply again to retry them)", totals.failed);
  return `${out.join("\n")}\n`;
}

/** The policy file's sha256, computed as the policy loader does when it records it in a plan. */
async function policyDigest(io: CommandIo, file: string): Promise<string> {
  try {
    return createHash("sha256").update(await readFile(resolve(io.cwd, file), "utf8")).digest("hex");
  } catch (error) {
    throw new UserError(`${file}: cannot read the policy: ${(error as Error).message}`);
  }
}

function asUserError(error: unknown): never {
  if (error instanceof JournalError) throw new UserError(error.message);
  throw new UserError((error as Error).message, EXIT.runtime);
}

/** A journal or log that cannot be written stops the run: no deletion may go unrecorded. */
async function appendOrStop(writer: JsonLinesWriter | undefined, results: readonly object[]): Promise<void> {
  if (writer === undefined) return;
  try {
    await writer.append(results);
  } catch (error) {
    throw new UserError(`${writer.path}: cannot write (${(error as Error).message}); stopped so that no deletion goes unrecorded`, EXIT.runtime);
  }
}
