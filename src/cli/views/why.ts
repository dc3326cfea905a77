import { DEFAULT_KEEP, FOLLOWS_ARCHIVE, MIN_AGE_KEEP } from "../../plan/planner.ts";
import { lastUseOf } from "../../plan/render/format.ts";
import type { WhyAnswer, WhyReport } from "../../plan/why.ts";
import { formatBytes, formatDuration } from "../../util/units.ts";

/** The decision in words: what was decided, and by which rule or reason. */
function decision(answer: WhyAnswer, report: WhyReport): string {
  switch (answer.status) {
    case "deleted": {
      const by = answer.decidedBy === FOLLOWS_ARCHIVE ? `with its archive (${FOLLOWS_ARCHIVE})` : `by rule ${answer.decidedBy}`;
      return `deleted ${by}${report.refused ? "; but a guard refused the plan, so apply deletes nothing of it" : ""}`;
    }
    case "kept":
      if (answer.decidedBy === DEFAULT_KEEP) return `kept: no rule decided it (${DEFAULT_KEEP})`;
      if (answer.decidedBy === MIN_AGE_KEEP) return `kept: younger than the min-age guard (${MIN_AGE_KEEP})`;
      return `kept by rule ${answer.decidedBy}`;
    case "not-deleted":
      return "not deleted by this plan: kept, or not in its listing; the plan was made without --explain and does not say which or why (why PATH --policy P --target T tells)";
    case "unmanaged":
      return answer.size !== undefined ? "unmanaged: not an sstate file name, never touched" : "not an sstate file name: never touched, whether or not the target has it";
    case "not-listed":
      return report.digest !== undefined ? "not in the plan: not in the listing it was made from" : `not in the listing of ${report.target}`;
  }
}

export function renderWhyText(report: WhyReport, source: string): string {
  const out = [
    report.digest !== undefined ? `From plan ${report.digest} (${source}) for ${report.target}, ages as of ${report.now}` : `From policy ${source} on ${report.target}, ages as of ${report.now}`,
  ];
  for (const answer of report.answers) {
    out.push("", answer.path ?? answer.asked, `  ${decision(answer, report)}`);
    if (answer.status === "deleted" || answer.status === "kept") out.push(`  selected by: ${answer.rules.length > 0 ? answer.rules.join(", ") : "no rule"}`);
    if (answer.size !== undefined) out.push(`  ${formatBytes(answer.size)}, modified ${answer.mtime}, ${formatDuration(Math.max(0, answer.ageMs!))} old`);
    if (answer.lastUse !== undefined) out.push(`  ${lastUseOf(answer)}`);
    if (answer.after !== undefined) out.push(`  goes with its archive ${answer.after}: if that one stays, so does this file`);
  }
  return `${out.join("\n")}\n`;
}
