/** Two plans' differences for a terminal, a pull-request comment and machines. */
import { SstateNames } from "../../sstate/name.ts";
import { formatBytes } from "../../util/units.ts";
import { CHANGE_KINDS, type ChangeKind, type PlanChange, type PlanComparison, type PlanDiff, type PlanHead } from "../diff.ts";
import type { Tally } from "../plan-file.ts";
import { count, tally } from "./format.ts";
import { cell, code, collapsedTable, lazily, row, table, tallyCells } from "./markdown-blocks.ts";
import { FILE_ALIGN, FILE_COLUMNS, plannedFileCells } from "./markdown.ts";

const TITLES: Record<ChangeKind, string> = {
  "newly-deleted": "newly deleted",
  "no-longer-deleted": "no longer deleted",
  "other-rule": "deleted by another rule",
};
const MARKS: Record<ChangeKind, string> = { "newly-deleted": "+", "no-longer-deleted": "-", "other-rule": "~" };
/** Where every change is, when a rendering shows only some. */
const EVERY_CHANGE = "`sstate-keeper diff --format json`";
const TOP_ROWS = 10;

const signed = (n: number, text: string) => (n > 0 ? `+${text}` : text);
const netText = (net: Tally) => `${signed(net.files, count(net.files))} files, ${signed(net.bytes, formatBytes(net.bytes))}`;
const isEmpty = (diff: PlanDiff) => CHANGE_KINDS.every((kind) => diff.tallies[kind].files === 0);

/** The rule a change is about: the deciding one, or the old and the new one. */
const ruleOf = (change: PlanChange) => (change.change === "other-rule" ? `${change.previous.decidedBy} → ${change.file.decidedBy}` : change.file.decidedBy);

/** Why a change's file is there, as a reviewer reads it. */
function decision(change: PlanChange): string {
  if (change.change === "other-rule") return ruleOf(change);
  return `${change.change === "newly-deleted" ? "decided" : "was decided"} by ${change.file.decidedBy}`;
}

function* ofKind(changes: Iterable<PlanChange>, kind: ChangeKind): Generator<PlanChange> {
  for (const change of changes) if (change.change === kind) yield change;
}

export function renderDiffText(comparison: PlanComparison, options: { all: boolean; limit: number }): string {
  const { diff } = comparison;
  const out: string[] = [`Changes from plan ${diff.old.digest} (${diff.old.source}) to plan ${diff.new.digest} (${diff.new.source})`];
  const head = (label: string, h: PlanHead) =>
    `  ${label} made ${h.createdAt}, policy ${h.policy.path} (sha256 ${h.policy.sha256.slice(0, 12)}), deletes ${tally(h.delete)} of ${count(h.listing.files)} listed${
      h.refused ? ", REFUSED by a guard" : ""
    }`;
  out.push(head("old:", diff.old), head("new:", diff.new));
  if (diff.old.target !== diff.new.target) out.push(`  the plans are for different targets: ${diff.old.target} (old), ${diff.new.target} (new)`);
  else out.push(`  target ${diff.new.target}`);
  out.push("");
  if (isEmpty(diff)) {
    out.push("  no changes: both plans delete the same files, each decided by the same rule");
    return `${out.join("\n")}\n`;
  }
  for (const kind of CHANGE_KINDS) out.push(`  ${TITLES[kind].padEnd(24)} ${tally(diff.tallies[kind])}`);
  out.push(`  ${"net".padEnd(24)} ${netText(diff.net)}`);
  if (diff.byRule.length > 0) {
    const width = Math.max(4, ...diff.byRule.map((r) => r.rule.length));
    out.push("", `  ${"rule".padEnd(width)}  ${"newly deleted".padEnd(26)}no longer deleted`);
    for (const r of diff.byRule) out.push(`  ${r.rule.padEnd(width)}  ${tally(r.newlyDeleted).padEnd(26)}${tally(r.noLongerDeleted)}`);
  }
  for (const move of diff.moves.slice(0, TOP_ROWS)) out.push(`  moved from ${move.from} to ${move.to}: ${tally(move)}`);
  const limit = options.all ? Infinity : options.limit;
  for (const kind of CHANGE_KINDS) {
    const total = diff.tallies[kind].files;
    if (total === 0) continue;
    out.push("", `  ${TITLES[kind]}${total > limit ? ` (first ${count(limit)} of ${count(total)}; --all lists every file)` : ""}:`);
    let shown = 0;
    for (const change of ofKind(comparison.changes(), kind)) {
      if (shown++ >= limit) break;
      out.push(`  ${MARKS[kind]} ${change.file.path}  ${formatBytes(change.file.size)}, ${decision(change)}`);
    }
  }
  return `${out.join("\n")}\n`;
}

/** The diff as a pull-request comment: never more than `maxChars` characters, the summary first, then as many files as fit. */
export function renderDiffMarkdown(comparison: PlanComparison, options: { maxChars: number }): string {
  const { diff } = comparison;
  const side = (label: string, h: PlanHead) => `**${label}** ${code(h.digest)} (${code(cell(h.source))}, made ${h.createdAt}, policy sha256 ${code(h.policy.sha256.slice(0, 12))})`;
  const out: string[] = [
    `### sstate-keeper plan changes for ${code(diff.new.target)}`,
    "",
    `${side("Old", diff.old)} → ${side("New", diff.new)}${diff.new.refused ? " · ❌ **the new plan is refused by a guard**" : ""}`,
  ];
  if (diff.old.target !== diff.new.target) out.push("", `⚠️ The plans are for different targets: old ${code(diff.old.target)}, new ${code(diff.new.target)}.`);
  out.push(
    "",
    ...table(["", "files", "bytes"], "|---|---:|---:|", [
      ["old plan deletes", ...tallyCells(diff.old.delete)],
      ["new plan deletes", ...tallyCells(diff.new.delete)],
      ["**newly deleted**", ...tallyCells(diff.tallies["newly-deleted"])],
      ["no longer deleted", ...tallyCells(diff.tallies["no-longer-deleted"])],
      ["deleted by another rule", ...tallyCells(diff.tallies["other-rule"])],
      ["net", signed(diff.net.files, count(diff.net.files)), signed(diff.net.bytes, formatBytes(diff.net.bytes))],
    ]),
  );
  if (isEmpty(diff)) out.push("", "No changes: both plans delete the same files, each decided by the same rule.");
  if (diff.byRule.length > 0) {
    out.push(
      "",
      "#### By rule",
      "",
      ...table(
        ["rule", "newly deleted files", "newly deleted bytes", "no longer deleted files", "no longer deleted bytes"],
        "|---|---:|---:|---:|---:|",
        diff.byRule.map((r) => [code(cell(r.rule)), ...tallyCells(r.newlyDeleted), ...tallyCells(r.noLongerDeleted)]),
        100,
        "more rules",
        EVERY_CHANGE,
      ),
    );
  }
  if (diff.moves.length > 0) {
    out.push(
      "",
      "#### Deleted by another rule",
      "",
      ...table(["from", "to", "files", "bytes"], "|---|---|---:|---:|", diff.moves.map((m) => [code(cell(m.from)), code(cell(m.to)), ...tallyCells(m)]), TOP_ROWS, "more", EVERY_CHANGE),
    );
  }
  let text = `${out.join("\n")}\n`;
  const names = new SstateNames();
  for (const kind of CHANGE_KINDS) {
    const plan = kind === "no-longer-deleted" ? comparison.old : comparison.new;
    text += collapsedTable(
      {
        summary: `${TITLES[kind][0]!.toUpperCase()}${TITLES[kind].slice(1)} (${count(diff.tallies[kind].files)})`,
        header: [...FILE_COLUMNS, kind === "other-rule" ? "rule: old → new" : kind === "newly-deleted" ? "decided by" : "was decided by"],
        align: `${FILE_ALIGN}---|`,
        rows: lazily(ofKind(comparison.changes(), kind), (change) => row([...plannedFileCells(change.file, plan, names), cell(ruleOf(change))])),
        total: diff.tallies[kind].files,
        where: EVERY_CHANGE,
      },
      options.maxChars - text.length,
    );
  }
  return text;
}

/** The diff as JSON, in chunks (every change on a line of its own): never one string the size of a million-file diff. */
export function* diffJsonChunks(comparison: PlanComparison): Generator<string> {
  const placeholder = JSON.stringify("\u0000changes\u0000");
  const skeleton = JSON.stringify({ ...comparison.diff, changes: "\u0000changes\u0000" }, null, 2);
  const at = skeleton.indexOf(placeholder);
  yield skeleton.slice(0, at);
  let first = true;
  for (const change of comparison.changes()) {
    const { path, size, decidedBy } = change.file;
    const entry = { change: change.change, path, size, decidedBy, ...(change.change === "other-rule" ? { previousDecidedBy: change.previous.decidedBy } : {}) };
    yield `${first ? "[\n" : ",\n"}    ${JSON.stringify(entry)}`;
    first = false;
  }
  yield first ? "[]" : "\n  ]";
  yield `${skeleton.slice(at + placeholder.length)}\n`;
}
