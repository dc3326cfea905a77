import { count } from "../plan/render/format.ts";
import { formatBytes } from "../util/units.ts";
import { type GroupTally, INFO_KINDS, type InfoReport } from "./report.ts";

/** What the backend holds, named in every rendering. */
export interface InfoHeading {
  target: string;
}

/** SWSPEC names (fetch, unpack, patch, populate_lic …) have no arch field. */
const archLabel = (arch: string) => arch || "(SWSPEC)";

const HINTS = {
  orphans: "delete: { orphan: true }",
  siginfoOnly: "delete: { siginfo-only: true }",
  duplicates: "keep: { kind: archive, newest: 1, per: [pn, arch, task] }",
};

function biggestFirst(record: Record<string, GroupTally>): [string, GroupTally][] {
  return Object.entries(record).sort(([a, x], [b, y]) => y.bytes - x.bytes || (a < b ? -1 : 1));
}

/** Columns padded to their widest cell; numbers (every column but the first) right-aligned. */
function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => `  ${cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[0]!) : cell.padStart(widths[column]!))).join("  ")}`.trimEnd();
  return [line(header), ...rows.map(line)];
}

const groupRow = (label: string, tally: GroupTally) => [label, count(tally.files), count(tally.archives), formatBytes(tally.bytes)];
const GROUP_HEADER = ["files", "archives", "bytes"];

export function renderInfoText(report: InfoReport, heading: InfoHeading): string {
  const out: string[] = [];
  out.push(`Cache ${heading.target}, now ${report.now}`);
  out.push(`  ${count(report.files)} files, ${formatBytes(report.bytes)}; ${count(report.recipes)} recipes`);
  out.push("");
  out.push(...table(["kind", "files", "bytes"], INFO_KINDS.map((kind) => [kind, count(report.byKind[kind].files), formatBytes(report.byKind[kind].bytes)])));
  out.push("");
  out.push(...table(["arch", ...GROUP_HEADER], biggestFirst(report.byArch).map(([arch, tally]) => groupRow(archLabel(arch), tally))));
  out.push("");
  out.push(...table(["task", ...GROUP_HEADER], biggestFirst(report.byTask).map(([task, tally]) => groupRow(task, tally))));
  out.push("");
  out.push(...table([`top ${report.topRecipes.length} recipes`, ...GROUP_HEADER], report.topRecipes.map((recipe) => groupRow(recipe.pn, recipe))));
  out.push("");
  out.push(...table(["age", "files", "bytes"], report.ages.map((bucket) => [bucket.label, count(bucket.files), formatBytes(bucket.bytes)])));
  out.push("");
  out.push("  housekeeping");
  for (const [label, text] of findings(report)) out.push(`  ${label.padEnd(22)} ${text}`);
  for (const example of report.identicalArchives?.examples ?? []) {
    out.push(`    ${formatBytes(example.size)}, ETag ${example.etag}, ${count(example.files)} archives:`);
    for (const path of example.paths) out.push(`      ${path}`);
  }
  return `${out.join("\n")}\n`;
}

/** One line per health finding: [label, what was found and the policy selector that acts on it]. */
function findings(report: InfoReport): [string, string][] {
  const { orphans, siginfoOnly, duplicates, identicalArchives } = report;
  return [
    ["orphans", `${count(orphans.files)} .siginfo/.sig/.done files whose archive is gone, ${formatBytes(orphans.bytes)} (${HINTS.orphans})`],
    [
      "siginfo-only tasks",
      `${count(siginfoOnly.groups)} pn+arch+task groups without an archive: ${count(siginfoOnly.files)} files, ${formatBytes(siginfoOnly.bytes)} (${HINTS.siginfoOnly})`,
    ],
    [
      "duplicate generations",
      `${count(duplicates.groups)} pn+arch+task groups with more than one archive: ${count(duplicates.surplusFiles)} archives older than the newest, ${
        formatBytes(duplicates.surplusBytes)
      } (${HINTS.duplicates})`,
    ],
    [
      "identical archives",
      identicalArchives === null
        ? "not checked: this backend has no ETags"
        : identicalArchives.groups === 0
        ? "none under different hashes"
        : `${count(identicalArchives.groups)} sets of archives with the same size and ETag under different hashes (${count(identicalArchives.files)} files, ${
          formatBytes(identicalArchives.surplusBytes)
        } surplus): is hash equivalence working?`,
    ],
  ];
}

const cell = (text: string) => text.replace(/\|/g, "\\|");

/** The first column is a label; the others hold numbers (right-aligned) unless `prose`. */
function markdownTable(header: string[], rows: string[][], prose = false): string[] {
  const alignment = `|---|${header.slice(1).map(() => (prose ? "---|" : "---:|")).join("")}`;
  return [`| ${header.join(" | ")} |`, alignment, ...rows.map((row) => `| ${row.map(cell).join(" | ")} |`)];
}

/** For a wiki page or a CI job summary: headline tables, the long ones collapsed. */
export function renderInfoMarkdown(report: InfoReport, heading: InfoHeading): string {
  const out: string[] = [];
  const details = (summary: string, lines: string[]) => out.push(`<details><summary>${summary}</summary>`, "", ...lines, "", "</details>", "");
  out.push(`### sstate cache \`${heading.target}\``, "");
  out.push(`${count(report.files)} files, ${formatBytes(report.bytes)}, ${count(report.recipes)} recipes · now ${report.now}`, "");
  out.push(...markdownTable(["kind", "files", "bytes"], INFO_KINDS.map((kind) => [kind, count(report.byKind[kind].files), formatBytes(report.byKind[kind].bytes)])), "");
  out.push(...markdownTable(["finding", "details"], findings(report), true), "");
  const examples = report.identicalArchives?.examples ?? [];
  if (examples.length > 0) {
    details(
      "Identical archives under different hashes",
      examples.flatMap((example) => [`- ${formatBytes(example.size)}, ETag \`${cell(example.etag)}\`, ${count(example.files)} archives:`, ...example.paths.map((path) => `  - \`${path}\``)]),
    );
  }
  out.push(...markdownTable(["age", "files", "bytes"], report.ages.map((bucket) => [bucket.label, count(bucket.files), formatBytes(bucket.bytes)])), "");
  details("Per arch", markdownTable(["arch", ...GROUP_HEADER], biggestFirst(report.byArch).map(([arch, tally]) => groupRow(archLabel(arch), tally))));
  details("Per task", markdownTable(["task", ...GROUP_HEADER], biggestFirst(report.byTask).map(([task, tally]) => groupRow(task, tally))));
  details(`Top ${report.topRecipes.length} recipes`, markdownTable(["recipe", ...GROUP_HEADER], report.topRecipes.map((recipe) => groupRow(recipe.pn, recipe))));
  return `${out.join("\n").trimEnd()}\n`;
}
