import { DEFAULT_KEEP, FOLLOWS_ARCHIVE, MIN_AGE_KEEP } from "../../plan/planner.ts";
import type { WhyAnswer, WhyReport } from "../../plan/why.ts";
import { formatBytes, formatDuration } from "../../util/units.ts";

/** The decision in words: what was decided, and by which rule or reason. */
function decision(answer: WhyAnswer, report: WhyReport, fix: string): string {
  const others = (rules: readonly string[]) => (rules.length > 0 ? ` (selected by ${rules.join(", ")})` : "");
  const besides = answer.rules.filter((rule) => rule !== answer.decidedBy);
  switch (answer.status) {
    case "deleted":
      if (answer.decidedBy === FOLLOWS_ARCHIVE) return `deleted: it goes with its archive, which is deleted${others(answer.rules)}`;
      return `deleted by rule ${answer.decidedBy}${besides.length > 0 ? ` (also selected by ${besides.join(", ")})` : ""}${report.refused ? "; but a guard refused the plan, so apply deletes nothing of it" : ""}`;
    case "kept":
      if (answer.decidedBy === DEFAULT_KEEP) return `kept: no rule decided it (${DEFAULT_KEEP})${others(answer.rules)}`;
      if (answer.decidedBy === MIN_AGE_KEEP) return `kept: younger than the min-age guard (${MIN_AGE_KEEP})${others(answer.rules)}`;
      return `kept by rule ${answer.decidedBy}${besides.length > 0 ? ` (also selected by ${besides.join(", ")})` : ""}`;
    case "not-deleted":
      return `not deleted by this plan: kept, or not in its listing; the plan was made without --explain and does not say which or why (${fix})`;
    case "unmanaged":
      return "unmanaged: not an sstate file name, never touched";
    case "not-listed":
      return report.digest !== undefined ? "not in the plan: not in the listing it was made from" : `not in the listing of ${report.target}`;
  }
}

export function renderWhyText(report: WhyReport, source: string): string {
  const fix = "why PATH --policy P --target T tells";
  const out = [report.digest !== undefined ? `From plan ${report.digest} (${source}) for ${report.target}, ages as of ${report.now}` : `From policy ${source} on ${report.target}, ages as of ${report.now}`];
  for (const answer of report.answers) {
    out.push("", answer.path ?? answer.asked, `  ${decision(answer, report, fix)}`);
    if (answer.rules.length > 0) out.push(`  selected by: ${answer.rules.join(", ")}`);
    if (answer.size !== undefined) out.push(`  ${formatBytes(answer.size)}, modified ${answer.mtime}, ${formatDuration(Math.max(0, answer.ageMs!))} old`);
    if (answer.after !== undefined) out.push(`  goes with its archive ${answer.after}: if that one stays, so does this file`);
  }
  return `${out.join("\n")}\n`;
}
