/** The pieces the markdown renderings (plan, diff) are made of, and the one way they fit a budget. */
import { formatBytes } from "../../util/units.ts";
import type { Tally } from "../plan-file.ts";
import { count } from "./format.ts";

export const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");
export const code = (text: string) => `\`${text.replace(/`/g, "'")}\``;
/** Text from the input (a glob, a rule name) shown as it is, not read as emphasis, links or HTML. */
export const plain = (text: string) => text.replace(/[\\`*_[\]<>|~]/g, "\\$&").replace(/\n/g, " ");
export const row = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
export const tallyCells = (t: Tally) => [count(t.files), formatBytes(t.bytes)];

/** A table whose rows beyond `limit` are summed up in one line under it. */
export function table(header: readonly string[], align: string, rows: readonly string[][], limit = Infinity, more = "more", where = "plan.json"): string[] {
  const lines = [row(header), align, ...rows.slice(0, limit).map((cells) => row(cells))];
  if (rows.length > limit) lines.push("", `… and ${count(rows.length - limit)} ${more} in ${where}`);
  return lines;
}

export interface CollapsedTable {
  /** The `<summary>` line. */
  summary: string;
  header: readonly string[];
  align: string;
  /** Rendered rows, made only as far as they are shown. */
  rows: Iterable<string>;
  total: number;
  /** Where the rows that do not fit are, e.g. `plan.json`. */
  where: string;
}

/**
 * A collapsible table of as many of its rows as `budget` characters hold, with the line that
 * says how many more; empty when not even its header fits.
 */
export function collapsedTable(t: CollapsedTable, budget: number): string {
  if (t.total === 0) return "";
  const opening = ["", `<details><summary>${t.summary}</summary>`, "", row(t.header), t.align].join("\n");
  const closing = (more: number) => `${more > 0 ? `\n\n… and ${count(more)} more in ${t.where}` : ""}\n\n</details>\n`;
  const reserve = closing(t.total).length;
  let text = `${opening}\n`;
  if (text.length + reserve > budget) return "";
  let shown = 0;
  for (const rendered of t.rows) {
    const line = `${rendered}\n`;
    if (text.length + line.length + reserve > budget) break;
    text += line;
    shown++;
  }
  return `${text.trimEnd()}${closing(t.total - shown)}`;
}

/** `render` of each item, made only when it is read. */
export function* lazily<T>(items: Iterable<T>, render: (item: T) => string): Generator<string> {
  for (const item of items) yield render(item);
}
