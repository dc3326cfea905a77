/** Number formatting and the results table, as text for the terminal and as markdown. */

export const count = (n) => n.toLocaleString("en-US");
export const seconds = (ms) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
export const mebibytes = (kib) => `${Math.round(kib / 1024)} MiB`;
export const perSecond = (n, ms) => `${count(Math.round(n / (ms / 1000)))}/s`;
export const ratio = (x) => `${x.toFixed(2)}×`;
/** "1M", "100k", "20k": short file counts for labels. */
export const shortCount = (n) => (n >= 1e6 && n % 1e6 === 0 ? `${n / 1e6}M` : n >= 1e3 && n % 1e3 === 0 ? `${n / 1e3}k` : count(n));
export const requestCounts = (counts) =>
  Object.entries(counts)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, n]) => `${name} ${count(n)}`)
    .join(", ");

const COLUMNS = [
  ["section", (row) => row.section],
  ["measure", (row) => row.measure],
  ["value", (row) => row.value],
  ["bound", (row) => row.bound ?? ""],
  ["verdict", (row) => verdictOf(row)],
];

function verdictOf(row) {
  if (row.pass === undefined) return "";
  return row.pass ? "pass" : "FAIL";
}

export function textTable(rows) {
  const cells = rows.map((row) => COLUMNS.map(([, cell]) => cell(row)));
  const widths = COLUMNS.map(([title], column) => Math.max(title.length, ...cells.map((line) => line[column].length)));
  const line = (values) => values.map((value, column) => value.padEnd(widths[column])).join("  ").trimEnd();
  return [line(COLUMNS.map(([title]) => title)), line(widths.map((width) => "-".repeat(width))), ...cells.map(line)].join("\n");
}

export function markdownTable(rows) {
  const escape = (text) => text.replaceAll("|", "\\|");
  return [
    `| ${COLUMNS.map(([title]) => title).join(" | ")} |`,
    `|${COLUMNS.map(() => "---").join("|")}|`,
    ...rows.map((row) => `| ${COLUMNS.map(([, cell]) => escape(cell(row))).join(" | ")} |`),
  ].join("\n");
}
