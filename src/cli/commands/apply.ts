import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { MAX_BATCH_SIZE } from "../../apply/executor.ts";
import { JsonLinesWriter } from "../../apply/json-lines.ts";
import { JournalError, openJournal, readJournal } from "../../apply/journal.ts";
import { acquireLock, LockedError, type Lock } from "../../apply/lock.ts";
import type { FileResult } from "../../apply/outcome.ts";
import { applyPlan, verdictOf, type ApplyReport } from "../../apply/run.ts";
import { verifyPlan } from "../../apply/verify.ts";
import { parsePlan } from "../../plan/read-plan.ts";
import { count, tally } from "../../plan/render/format.ts";
import { loadPolicy, policyDigest } from "../../policy/load.ts";
import { formatBytes } from "../../util/units.ts";
import { concurrencyOption, oneOf, parseCommandArgs, timeoutOption, wholeNumberOption } from "../args.ts";
import { outputFile } from "../destinations.ts";
import { EXIT, progressLine, UserError, type CommandIo } from "../io.ts";
import { targetOf, withBackend } from "../listing-input.ts";
import { readPlanText } from "./show.ts";

const USAGE =
  "sstate-keeper apply PLAN [--target URL] [--policy P] [--require-signed] [--expect-digest sha256:…] [--journal F] [--log F] [--concurrency N] [--batch-size N] [--timeout D] [--dry-run] [--format text|json]";
/** Batches in flight: one batch's checks overlap another's delete request. */
const DEFAULT_CONCURRENCY = 8;
/** Skipped and failed files listed in the summary; --log has every one. */
const LISTED_PROBLEMS = 20;
const PLAN_KEY = "SSTATE_KEEPER_PLAN_KEY";

export async function applyCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    "apply",
    argv,
    {
      target: { type: "string", short: "t" },
      policy: { type: "string", short: "p" },
      "require-signed": { type: "boolean" },
      "expect-digest": { type: "string" },
      journal: { type: "string" },
      log: { type: "string" },
      concurrency: { type: "string", short: "j" },
      "batch-size": { type: "string" },
      timeout: { type: "string" },
      "dry-run": { type: "boolean", short: "n" },
      format: { type: "string", short: "f" },
    },
    USAGE,
  );
  if (positionals.length !== 1) throw new UserError(`apply: name one plan file\nusage: ${USAGE}`);
  const planArg = positionals[0]!;
  const options = {
    dryRun: values["dry-run"] === true,
    concurrency: concurrencyOption(values.concurrency, DEFAULT_CONCURRENCY),
    batchSize: wholeNumberOption("batch-size", values["batch-size"], MAX_BATCH_SIZE, MAX_BATCH_SIZE),
  };
  const format = oneOf("format", values.format, ["text", "json"] as const, "text");
  const timeouts = timeoutOption(values.timeout);
  const expectDigest = values["expect-digest"];
  if (expectDigest !== undefined && !/^sha256:[0-9a-f]{64}$/.test(expectDigest)) throw new UserError(`--expect-digest ${expectDigest}: expected the plan digest as the plan comment shows it, sha256: and 64 hex digits`);
  const journalPath = await outputFile(io, "journal", values.journal ?? `${planArg}.journal`);
  const logPath = values.log === undefined ? undefined : await outputFile(io, "log", values.log);

  const plan = parsePlan(await readPlanText(io, planArg), planArg);
  const target = targetOf(io, values.target ?? plan.target);
  const policy = values.policy === undefined ? undefined : await policyFacts(io, values.policy);
  const rejection = verifyPlan(plan, {
    now: io.clock(),
    ...(values.target !== undefined ? { targetUrl: target.url } : {}),
    ...(policy?.sha256 !== undefined ? { policySha256: policy.sha256 } : {}),
    ...(policy?.target !== undefined ? { policyTargetUrl: targetOf(io, policy.target, "policy target").url } : {}),
    ...(io.env[PLAN_KEY] ? { planKey: io.env[PLAN_KEY] } : {}),
    requireSigned: values["require-signed"] === true,
    ...(expectDigest !== undefined ? { expectDigest } : {}),
  });
  if (rejection) throw new UserError(`${planArg}: ${rejection.message}`, rejection.kind === "tampered" ? EXIT.invalidInput : EXIT.refused);
  if (format === "text") io.stdout(`${options.dryRun ? "dry run of" : "applying"} plan ${plan.integrity} (made ${plan.createdAt}, expires ${plan.expiresAt}) to ${plan.target}\n`);

  // A dry run changes nothing: it needs no lock and writes no journal.
  const locks: Lock[] = [];
  let journal: JsonLinesWriter | undefined;
  let log: JsonLinesWriter | undefined;
  const progress = progressLine(io);
  let report: ApplyReport;
  try {
    if (!options.dryRun) {
      locks.push(await acquireLock(`${journalPath}.lock`, `journal ${journalPath}`, io.clock()).catch(asUserError));
      locks.push(await acquireLock(targetLockPath(plan.target), `target ${plan.target} on this machine`, io.clock()).catch(asUserError));
    }
    const earlier = await readJournal(journalPath, plan.integrity).catch(asUserError);
    journal = options.dryRun ? undefined : await openJournal(earlier, plan, io.clock()).catch(asUserError);
    log = logPath === undefined ? undefined : await JsonLinesWriter.open(logPath, { durable: true }).catch(asUserError);
    report = await withBackend(
      io,
      target,
      (backend) =>
        applyPlan({
          plan,
          backend,
          earlier: earlier.previous,
          journal,
          log,
          clock: io.clock,
          options,
          onProgress: (now) => progress.update(`${options.dryRun ? "checking" : "applying"} ${planArg}: ${count(now.checked)} of ${count(now.pending)} files, ${formatBytes(now.deleted.bytes)} freed`),
        }),
      timeouts,
    );
  } finally {
    progress.done();
    await journal?.close();
    await log?.close();
    for (const lock of locks) await lock.release();
  }

  const verdict = verdictOf(report);
  if (report.directoriesNote !== undefined) io.stderr(`${report.directoriesNote}\n`);
  if (format === "json") io.stdout(`${JSON.stringify({ ...report, verdict, journal: options.dryRun ? undefined : journalPath }, null, 2)}\n`);
  else io.stdout(renderSummary(report, { planArg, journalPath: options.dryRun ? undefined : journalPath }));
  switch (verdict) {
    case "stopped":
      io.stderr(`${report.stopped}\nWhat finished is recorded in ${journalPath}; run the same apply again to finish the rest.\n`);
      // Once deletions have started, a stop leaves planned files behind that failed: a person must look.
      return report.deleted.files > 0 ? EXIT.failed : EXIT.runtime;
    case "failed":
      io.stderr(
        `apply ${options.dryRun ? "would fail" : "failed"} for ${count(report.failed.length)} files (run apply again to retry them; a person should look at why)${report.skipped.length > 0 ? `; ${count(report.skipped.length)} skipped (changed since planning: kept)` : ""}\n`,
      );
      return EXIT.failed;
    case "skipped":
      io.stderr(`${options.dryRun ? "dry run: " : "apply finished: "}${count(report.skipped.length)} files ${options.dryRun ? "would be " : ""}skipped because they changed since planning (kept; a new plan reconsiders them)\n`);
      return EXIT.skipped;
    case "ok":
      return EXIT.ok;
  }
}

/** The `--policy` file's digest (as plans record it) and its `target:`, if it has one. */
async function policyFacts(io: CommandIo, file: string): Promise<{ sha256: string; target: string | undefined }> {
  let text: string;
  try {
    text = await readFile(resolve(io.cwd, file), "utf8");
  } catch (error) {
    throw new UserError(`${file}: cannot read the policy: ${(error as Error).message}`);
  }
  return { sha256: policyDigest(text), target: loadPolicy(text, file).policy?.target };
}

/** One apply per target on this machine, whatever journal each uses. */
function targetLockPath(target: string): string {
  return join(tmpdir(), `sstate-keeper-${createHash("sha256").update(target).digest("hex").slice(0, 16)}.lock`);
}

function renderSummary(report: ApplyReport, context: { planArg: string; journalPath: string | undefined }): string {
  const out: string[] = [];
  const row = (label: string, text: string) => out.push(`  ${label.padEnd(13)} ${text}`);
  const files = (n: number) => `${count(n)} file${n === 1 ? "" : "s"}`;
  if (report.dryRun) {
    out.push(`dry run of ${context.planArg} on ${report.target}: nothing was deleted`);
    row("would delete", tally(report.wouldDelete));
  } else {
    out.push(`applied ${context.planArg} to ${report.target}`);
    row("deleted", `${files(report.deleted.files)}, ${formatBytes(report.deleted.bytes)} freed`);
  }
  row("already gone", files(report.missing));
  row("skipped", `${files(report.skipped.length)} (changed since planning, kept)`);
  row("failed", files(report.failed.length));
  if (report.doneEarlier > 0) row("done earlier", `${files(report.doneEarlier)} (by an earlier run${context.journalPath ? `, journal ${context.journalPath}` : ""})`);
  const list = (title: string, results: FileResult[]) => {
    if (results.length === 0) return;
    out.push("", `${title}:`);
    for (const result of results.slice(0, LISTED_PROBLEMS)) out.push(`  - ${result.path}: ${result.reason}`);
    if (results.length > LISTED_PROBLEMS) out.push(`  … and ${count(results.length - LISTED_PROBLEMS)} more (--log FILE records every file)`);
  };
  list("skipped (a new plan reconsiders them)", report.skipped);
  list("failed (run apply again to retry them)", report.failed);
  return `${out.join("\n")}\n`;
}

function asUserError(error: unknown): never {
  if (error instanceof JournalError) throw new UserError(error.message);
  if (error instanceof LockedError) throw new UserError(error.message, EXIT.refused);
  throw new UserError((error as Error).message, EXIT.runtime);
}
