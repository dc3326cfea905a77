#!/usr/bin/env node
// Checks that src/ imports run one way (README "Layout"): every module may import only its own
// layer's modules or lower layers, runs never import each other, and no import cycle exists.
// Prints every violation with the importing file and line; exits 1 if there is any.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const SRC = fileURLToPath(new URL("../src/", import.meta.url));

/**
 * Rank of each top-level directory of src/ (a file directly in src/ is the CLI's shim). A module
 * may import modules of a lower rank, and of its own directory; directories of equal rank are
 * strangers to each other (the runs are side by side, not on top of each other).
 */
const RANKS = {
  util: 0,
  sstate: 1,
  siginfo: 1,
  policy: 2,
  backends: 2,
  plan: 3,
  evidence: 3,
  sources: 3,
  apply: 4,
  info: 4,
  upload: 4,
  analyze: 4,
  demo: 4,
  cli: 5,
  "": 6,
};
/** Same-rank pairs that may import one way, with why. */
const ALLOWED_ACROSS = new Set([
  // The plan run lists through the evidence readers (use evidence belongs to planning).
  "plan→evidence",
  // The plan run reads its listing from a saved listing or an S3 Inventory report when given one.
  "plan→sources",
]);

function sourceFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

const layerOf = (file) => {
  const rel = relative(SRC, file);
  return rel.includes("/") ? rel.slice(0, rel.indexOf("/")) : "";
};

const IMPORT = /^\s*(?:import|export)\s[^;]*?from\s+["'](\.[^"']+)["']|^\s*import\s+["'](\.[^"']+)["']|import\(\s*["'](\.[^"']+)["']\s*\)/gm;

const problems = [];
const graph = new Map();
for (const file of sourceFiles(SRC)) {
  const text = readFileSync(file, "utf8");
  const edges = [];
  for (const match of text.matchAll(IMPORT)) {
    const spec = match[1] ?? match[2] ?? match[3];
    const target = resolve(dirname(file), spec);
    const line = text.slice(0, match.index).split("\n").length;
    edges.push(target);
    const from = layerOf(file);
    const to = layerOf(target);
    if (!(from in RANKS)) problems.push(`${relative(SRC, file)}: directory src/${from} has no rank in scripts/check-layers.mjs`);
    else if (from !== to && !(RANKS[to] < RANKS[from] || ALLOWED_ACROSS.has(`${from}→${to}`))) {
      problems.push(`src/${relative(SRC, file)}:${line}: ${from || "src"} imports ${relative(SRC, target)} (${to}), which is not below it`);
    }
  }
  graph.set(file, edges);
}

// Cycles between files (within a layer too): depth-first search with colours.
const state = new Map();
const stack = [];
const visit = (file) => {
  state.set(file, "open");
  stack.push(file);
  for (const next of graph.get(file) ?? []) {
    if (!graph.has(next)) continue;
    if (state.get(next) === "open") {
      const cycle = stack.slice(stack.indexOf(next)).concat(next).map((f) => relative(SRC, f));
      problems.push(`import cycle: ${cycle.join(" → ")}`);
    } else if (!state.has(next)) visit(next);
  }
  stack.pop();
  state.set(file, "done");
};
for (const file of graph.keys()) if (!state.has(file)) visit(file);

if (problems.length > 0) {
  for (const problem of problems) console.error(problem);
  console.error(`check-layers: ${problems.length} problem(s)`);
  process.exit(1);
}
console.log(`check-layers: ${graph.size} modules, imports run one way, no cycles`);
