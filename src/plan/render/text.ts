import { formatBytes } from "../../util/units.ts";
import type { PlanFile } from "../plan-file.ts";
import { ageOf, count, firstOf, listingSourceOf, reasonOf, tally } from "./format.ts";

export interface TextOptions {
  /** Print every planned file instead of the first `limit`. */
  all: boolean;
  limit: number;
}

/** The plan for a terminal; reads only the serialised plan. */
export function renderText(plan: PlanFile, options: TextOptions = { all: false, limit: 30 }): string {
  const out: string[] = [];
  out.push(`Plan ${plan.integrity}${plan.signature !== undefined ? " (signed)" : ""} for ${plan.target}`);
  out.push(`  policy ${plan.policy.path} (sha256 ${plan.policy.sha256.slice(0, 12)}), now ${plan.now}, expires ${plan.expiresAt}`);
  out.push(`  listed ${tally(plan.listing)}; ${count(plan.summary.unmanaged.files)} unmanaged files are never touched`);
  const source = listingSourceOf(plan);
  if (source !== undefined) out.push(`  listing ${source}`);
  out.push("");
  out.push(`  delete  ${tally(plan.summary.delete)}`);
  out.push(`  keep    ${tally(plan.summary.keep)}`);
  out.push("");
  const width = Math.max(4, ...plan.summary.byRule.map((r) => r.rule.length));
  out.push(`  ${"rule".padEnd(width)}  action  ${"matched".padEnd(26)}decided`);
  for (const r of plan.summary.byRule) out.push(`  ${r.rule.padEnd(width)}  ${r.action.padEnd(6)}  ${tally(r.matched).padEnd(26)}${tally(r.decided)}`);
  out.push("");
  out.push("  guards");
  for (const g of plan.guards) out.push(`  ${g.verdict === "refused" ? "REFUSED" : "ok     "}  ${g.name.padEnd(18)}  ${g.message}`);
  if (plan.summary.deleteByArch.length) {
    out.push("");
    out.push(`  deletions by arch: ${plan.summary.deleteByArch.slice(0, 8).map((a) => `${a.arch || "(swspec)"} ${formatBytes(a.bytes)}`).join(", ")}`);
    out.push(`  top recipes: ${plan.summary.deleteTopRecipes.slice(0, 8).map((r) => `${r.pn} ${formatBytes(r.bytes)}`).join(", ")}`);
  }
  out.push("");
  const shown = firstOf(plan.delete, options.all ? Infinity : options.limit);
  out.push(
    plan.delete.length === 0
      ? "  nothing to delete"
      : `  files to delete${shown.length < plan.delete.length ? ` (first ${shown.length} of ${count(plan.delete.length)}; --all lists every file)` : ""}:`,
  );
  for (const f of shown) out.push(`  - ${f.path}  ${formatBytes(f.size)}, ${ageOf(f, plan)} old, ${reasonOf(f)}`);
  if (plan.keep) {
    const kept = firstOf(plan.keep, options.all ? Infinity : options.limit);
    out.push("");
    out.push(`  files kept${kept.length < plan.keep.length ? ` (first ${kept.length} of ${count(plan.keep.length)})` : ""}:`);
    for (const f of kept) out.push(`  = ${f.path}  ${formatBytes(f.size)}, ${ageOf(f, plan)} old, ${reasonOf(f)}`);
  }
  if (plan.refused) {
    out.push("");
    out.push("  REFUSED by a guard: apply will not run this plan. Fix the policy or the guard limits and plan again.");
  }
  return `${out.join("\n")}\n`;
}
