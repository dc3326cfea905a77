import type { Diagnostic } from "../../policy/diagnostics.ts";
import { formatBytes } from "../../util/units.ts";
import { SstateNames } from "../../sstate/name.ts";
import type { PlanFile, PlannedFile } from "../plan-file.ts";
import { DEFAULT_KEEP, MIN_AGE_KEEP } from "../planner.ts";
import { ageOf, count, lastUseOf, listingSourceOf } from "./format.ts";
import { cell, code, collapsedTable, lazily, plain, row, table, tallyCells } from "./markdown-blocks.ts";

/**
 * GitHub rejects comment bodies over 65,536 characters (GitLab notes allow more); the default
 * leaves room for what a CI job adds around the plan.
 */
export const DEFAULT_MAX_CHARS = 60_000;
/** The long tables show their biggest rows; the plan JSON has all. */
const TOP_ROWS = 10;
/** Warnings listed in the summary; the plan JSON has all. */
const SHOWN_WARNINGS = 20;
const SHORT_HASH = 8;

export interface MarkdownOptions {
  /** The rendering never exceeds this many characters. */
  maxChars: number;
}

/** The columns that name a planned file, and their alignment (a column for the decision follows). */
export const FILE_COLUMNS = ["recipe", "task", "arch", "hash", "file", "size", "age"] as const;
export const FILE_ALIGN = "|---|---|---|---|---|---:|---:|";

const REASON_LABELS: Record<string, string> = {
  [MIN_AGE_KEEP]: `${code(MIN_AGE_KEEP)} (younger than the min-age guard)`,
  [DEFAULT_KEEP]: `${code(DEFAULT_KEEP)} (no rule selected them)`,
};

/**
 * The plan as a pull-request comment or merge-request note: the digest and the whole summary
 * first, then as many file rows as the character budget leaves room for, readable (recipe,
 * task, short hash) rather than 150-character paths. Reads only the serialised plan.
 */
export function renderMarkdown(plan: PlanFile, options: MarkdownOptions = { maxChars: DEFAULT_MAX_CHARS }): string {
  const summary = plan.summary;
  const verdict = plan.refused ? "❌ **refused by a guard**: apply will not run it" : "✅ guards passed";
  const out: string[] = [
    `### sstate-keeper plan for ${code(plan.target)}`,
    "",
    `**Plan digest** ${code(plan.integrity)}${plan.signature !== undefined ? " (signed)" : ""} · made ${plan.createdAt} · **expires ${plan.expiresAt}** · ${verdict}`,
    "",
    `Policy ${code(plan.policy.path)} (sha256 ${code(plan.policy.sha256.slice(0, 12))}) · ages as of ${plan.now} · listed ${count(plan.listing.files)} files, ${formatBytes(plan.listing.bytes)}`,
    ...sourceLine(plan),
    "",
    ...table(["", "files", "bytes"], "|---|---:|---:|", [
      ["**delete**", ...tallyCells(summary.delete)],
      ["keep", ...tallyCells(summary.keep)],
      ["unmanaged (never touched)", ...tallyCells(summary.unmanaged)],
    ]),
    ...warningsBlock(summary.warnings ?? []),
    "",
    "#### Rules",
    "",
    ...table(
      ["rule", "action", "matched files", "matched bytes", "decided files", "decided bytes"],
      "|---|---|---:|---:|---:|---:|",
      summary.byRule.map((r) => [code(cell(r.rule)), r.action, ...tallyCells(r.matched), ...tallyCells(r.decided)]),
      100,
      "more rules",
    ),
    "",
    "#### Kept, by reason",
    "",
    ...table(
      ["reason", "files", "bytes"],
      "|---|---:|---:|",
      summary.keepByReason.map((k) => [REASON_LABELS[k.reason] ?? code(cell(k.reason)), ...tallyCells(k)]),
    ),
    "",
    "#### Deleted, by kind, arch and recipe",
    "",
    ...table(
      ["kind", "files", "bytes"],
      "|---|---:|---:|",
      Object.entries(summary.deleteByKind).map(([kind, t]) => [kind, ...tallyCells(t)]),
    ),
    "",
    ...table(["arch", "files", "bytes"], "|---|---:|---:|", summary.deleteByArch.map((a) => [cell(a.arch || "(SWSPEC)"), ...tallyCells(a)]), TOP_ROWS, "more archs"),
    "",
    ...table(["top recipes by bytes freed", "files", "bytes"], "|---|---:|---:|", summary.deleteTopRecipes.map((r) => [cell(r.pn), ...tallyCells(r)]), TOP_ROWS, "more recipes"),
    "",
    "#### Guards",
    "",
    ...table(
      ["guard", "limit", "value", "verdict"],
      "|---|---|---|---|",
      plan.guards.map((g) => [g.name, cell(g.limit), cell(g.value), g.verdict === "refused" ? `❌ ${cell(g.message)}` : "ok"]),
    ),
  ];
  if (plan.delete.length === 0) out.push("", "Nothing to delete.");
  const head = `${out.join("\n")}\n`;
  return head + fileRows(plan, options.maxChars - head.length);
}

/** What the reviewer should read before approving, right under the totals; nothing when there is none. */
function warningsBlock(warnings: readonly Diagnostic[]): string[] {
  if (warnings.length === 0) return [];
  const lines = ["", `#### ⚠️ Warnings (${count(warnings.length)})`, ""];
  for (const w of warnings.slice(0, SHOWN_WARNINGS)) lines.push(`- ${code(`${w.file}:${w.line}:${w.col}`)} ${plain(w.message)}${w.hint ? ` (${plain(w.hint)})` : ""}`);
  if (warnings.length > SHOWN_WARNINGS) lines.push("", `… and ${count(warnings.length - SHOWN_WARNINGS)} more warnings in plan.json`);
  return lines;
}

/** As many rows of files to delete as `budget` characters hold, with the line that says how many more. */
function fileRows(plan: PlanFile, budget: number): string {
  const names = new SstateNames();
  return collapsedTable(
    {
      summary: `Files to delete (${count(plan.delete.length)})`,
      header: [...FILE_COLUMNS, "decided by"],
      align: `${FILE_ALIGN}---|`,
      rows: lazily(plan.delete, (file) => fileRow(file, plan, names)),
      total: plan.delete.length,
      where: "plan.json",
    },
    budget,
  );
}

function fileRow(file: PlannedFile, plan: PlanFile, names: SstateNames): string {
  const decided = file.after !== undefined ? `${cell(file.decidedBy)}, with its archive` : cell(file.decidedBy);
  // Age is since the last upload; a reviewer of a use-based rule needs the last use beside it.
  return row([...plannedFileCells(file, plan, names), file.lastUse !== undefined ? `${decided}, ${cell(lastUseOf(file))}` : decided]);
}

/** The columns of FILE_COLUMNS for one planned file: recipe, task, arch and short hash rather than its path. */
export function plannedFileCells(file: PlannedFile, plan: PlanFile, names: SstateNames): string[] {
  const name = names.parse(file.path);
  if (name === undefined) return [code(cell(file.path)), "", "", "", "", formatBytes(file.size), ageOf(file, plan)];
  return [cell(name.pn), cell(name.task), cell(name.arch || "(SWSPEC)"), code(name.hash.slice(0, SHORT_HASH)), code(name.suffix), formatBytes(file.size), ageOf(file, plan)];
}

/** The listing's source, when it was not the target listed by plan: the reviewer sees how old the listing is. */
function sourceLine(plan: PlanFile): string[] {
  const source = listingSourceOf(plan, code);
  return source === undefined ? [] : ["", `**Listing** ${source}`];
}
