import { formatBytes } from "../../policy/units.ts";
import type { PlanFile } from "../plan-file.ts";
import { ageOf, count, reasonOf } from "./format.ts";

/** GitHub and GitLab cut comments at 64 KiB; the JSON plan artifact always has every file. */
const MAX_LISTED = 500;

const cell = (text: string) => text.replace(/\|/g, "\\|");

/** The plan as a pull-request comment: summary tables and a collapsible list. */
export function renderMarkdown(plan: PlanFile): string {
  const out: string[] = [];
  const verdict = plan.refused ? "❌ **refused by a guard** — apply will not run it" : "✅ guards passed";
  out.push(`### sstate-keeper plan for \`${plan.target}\``);
  out.push("");
  out.push(
    `Policy \`${plan.policy.path}\` · now ${plan.now} · expires ${plan.expiresAt} · ${verdict}`,
  );
  out.push("");
  out.push("| | files | bytes |");
  out.push("|---|---:|---:|");
  out.push(`| **delete** | ${count(plan.summary.delete.files)} | ${formatBytes(plan.summary.delete.bytes)} |`);
  out.push(`| keep | ${count(plan.summary.keep.files)} | ${formatBytes(plan.summary.keep.bytes)} |`);
  out.push(`| unmanaged (never touched) | ${count(plan.summary.unmanaged.files)} | ${formatBytes(plan.summary.unmanaged.bytes)} |`);
  out.push("");
  out.push("| rule | action | matched files | matched bytes | decided files | decided bytes |");
  out.push("|---|---|---:|---:|---:|---:|");
  for (const r of plan.summary.byRule) {
    out.push(`| \`${cell(r.rule)}\` | ${r.action} | ${count(r.matched.files)} | ${formatBytes(r.matched.bytes)} | ${count(r.decided.files)} | ${formatBytes(r.decided.bytes)} |`);
  }
  out.push("");
  out.push("| guard | limit | value | verdict |");
  out.push("|---|---|---|---|");
  for (const g of plan.guards) out.push(`| ${g.name} | ${cell(g.limit)} | ${cell(g.value)} | ${g.verdict === "refused" ? `❌ ${cell(g.message)}` : "ok"} |`);
  if (plan.summary.deleteByArch.length) {
    out.push("");
    out.push("<details><summary>Deletions per arch and top recipes</summary>");
    out.push("");
    out.push("| arch | files | bytes |");
    out.push("|---|---:|---:|");
    for (const a of plan.summary.deleteByArch) out.push(`| ${cell(a.arch || "(SWSPEC)")} | ${count(a.files)} | ${formatBytes(a.bytes)} |`);
    out.push("");
    out.push("| recipe | files | bytes |");
    out.push("|---|---:|---:|");
    for (const r of plan.summary.deleteTopRecipes) out.push(`| ${cell(r.pn)} | ${count(r.files)} | ${formatBytes(r.bytes)} |`);
    out.push("");
    out.push("</details>");
  }
  if (plan.delete.length) {
    const shown = plan.delete.slice(0, MAX_LISTED);
    out.push("");
    out.push(`<details><summary>Files to delete (${count(plan.delete.length)})</summary>`);
    out.push("");
    out.push("| path | size | age | decided by |");
    out.push("|---|---:|---:|---|");
    for (const f of shown) out.push(`| \`${cell(f.path)}\` | ${formatBytes(f.size)} | ${ageOf(f, plan)} | ${cell(reasonOf(f))} |`);
    if (shown.length < plan.delete.length) out.push(`\n… and ${count(plan.delete.length - shown.length)} more: see the plan JSON artifact.`);
    out.push("");
    out.push("</details>");
  }
  return `${out.join("\n")}\n`;
}
