import type { FileResult } from "../../apply/outcome.ts";
import { type ApplyReport, verdictOf } from "../../apply/run.ts";
import type { PlanFile } from "../../plan/plan-file.ts";
import { count, tally } from "../../plan/render/format.ts";
import { formatBytes } from "../../util/units.ts";
import { EXIT, type Io } from "../io.ts";

/** Skipped and failed files listed in the summary; --log has every one. */
const LISTED_PROBLEMS = 20;

export interface ApplyContext {
  /** The plan file as the user named it. */
  source: string;
  /** The journal (a dry run writes none). */
  journalPath: string;
  format: "text" | "json";
}

/** The first line: which plan, by the digest the reviewer saw, before anything is touched. */
export function applyHeader(plan: PlanFile, dryRun: boolean): string {
  return `${dryRun ? "dry run of" : "applying"} plan ${plan.integrity} (made ${plan.createdAt}, expires ${plan.expiresAt}) to ${plan.target}\n`;
}

/** The exit code an apply's verdict means (README "Honest endings"). */
function applyExitCode(report: ApplyReport): number {
  switch (verdictOf(report)) {
    case "stopped":
      // Once deletions have started, a stop leaves planned files behind that failed: a person must look.
      return report.deleted.files > 0 ? EXIT.failed : EXIT.runtime;
    case "failed":
      return EXIT.failed;
    case "skipped":
      return EXIT.skipped;
    case "ok":
      return EXIT.ok;
  }
}

/** Prints the report (as JSON: with its verdict and the exit code it means) and says on stderr what needs doing; returns that exit code. */
export function showApplyReport(io: Io, report: ApplyReport, context: ApplyContext): number {
  const verdict = verdictOf(report);
  const exitCode = applyExitCode(report);
  if (report.directoriesNote !== undefined) io.stderr(`${report.directoriesNote}\n`);
  if (context.format === "json") io.stdout(`${JSON.stringify({ ...report, verdict, exitCode, journal: report.dryRun ? undefined : context.journalPath }, null, 2)}\n`);
  else io.stdout(renderSummary(report, context));
  switch (verdict) {
    case "stopped":
      io.stderr(`${report.stopped}\nWhat finished is recorded in ${context.journalPath}; run the same apply again to finish the rest.\n`);
      break;
    case "failed":
      io.stderr(
        `apply ${report.dryRun ? "would fail" : "failed"} for ${count(report.failed.length)} files (run apply again to retry them; a person should look at why)${
          report.skipped.length > 0 ? `; ${count(report.skipped.length)} skipped (changed since planning: kept)` : ""
        }\n`,
      );
      break;
    case "skipped":
      io.stderr(
        `${report.dryRun ? "dry run: " : "apply finished: "}${count(report.skipped.length)} files ${
          report.dryRun ? "would be " : ""
        }skipped because they changed since planning (kept; a new plan reconsiders them)\n`,
      );
      break;
  }
  return exitCode;
}

function renderSummary(report: ApplyReport, context: ApplyContext): string {
  const out: string[] = [];
  const row = (label: string, text: string) => out.push(`  ${label.padEnd(13)} ${text}`);
  const files = (n: number) => `${count(n)} file${n === 1 ? "" : "s"}`;
  if (report.dryRun) {
    out.push(`dry run of ${context.source} on ${report.target}: nothing was deleted`);
    row("would delete", tally(report.wouldDelete));
  } else {
    out.push(`applied ${context.source} to ${report.target}`);
    row("deleted", `${files(report.deleted.files)}, ${formatBytes(report.deleted.bytes)} freed`);
  }
  row("already gone", files(report.missing));
  row("skipped", `${files(report.skipped.length)} (changed since planning, kept)`);
  row("failed", files(report.failed.length));
  if (report.doneEarlier > 0) row("done earlier", `${files(report.doneEarlier)} (by an earlier run${report.dryRun ? "" : `, journal ${context.journalPath}`})`);
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
