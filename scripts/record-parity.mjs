// Records what the tools the presets copy remove on the parity caches (test/support/parity-cases.ts),
// into test/fixtures/parity/*.json, for test/preset-parity.test.ts. CI has neither tool, so
// their results are recorded here, once, from checkouts of their repositories:
//
//   node --import ./test/support/typescript-loader.mjs scripts/record-parity.mjs \
//     OPENEMBEDDED_CORE_CHECKOUT ISAR_CHECKOUT BITBAKE_CHECKOUT
//
// OE's script runs with -n -D (it prints what it would remove); isar-sstate has no dry run, so
// it cleans a copy with -v, its clock fixed at the cases' "now" so that ages are exact.
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEMO_NOW } from "../src/demo/generate.ts";
import { writeCache } from "../src/demo/write.ts";
import { listingOf } from "../src/sstate/listing.ts";
import { generatedCase, isarEdgeCase } from "../test/support/parity-cases.ts";

const [oeCore, isar, bitbake] = process.argv.slice(2);
if (!oeCore || !isar || !bitbake) throw new Error("usage: record-parity.mjs OPENEMBEDDED_CORE_CHECKOUT ISAR_CHECKOUT BITBAKE_CHECKOUT");
const TIMEOUT_MS = 10 * 60_000;

const run = (command, args, env = {}) => execFileSync(command, args, { encoding: "utf8", timeout: TIMEOUT_MS, maxBuffer: 1 << 30, env: { ...process.env, ...env } });
const revision = (checkout) => run("git", ["-C", checkout, "log", "-1", "--format=%H %cs"]).trim();

/** Indexes as ranges ("3-7,9"): removed files come in runs, as the generator writes a task's files together. */
function ranges(indexes) {
  const parts = [];
  for (let i = 0; i < indexes.length;) {
    let j = i;
    while (j + 1 < indexes.length && indexes[j + 1] === indexes[j] + 1) j++;
    parts.push(i === j ? `${indexes[i]}` : `${indexes[i]}-${indexes[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}

function record(parityCase, removedPaths) {
  const index = new Map(parityCase.files.map((file, i) => [file.path, i]));
  const indexes = [...new Set(removedPaths)].map((path) => {
    const i = index.get(path);
    if (i === undefined) throw new Error(`${parityCase.name}: the tool removed ${path}, which is not in the case`);
    return i;
  });
  return { files: parityCase.files.length, listingSha256: listingOf(parityCase.files).sha256, removedCount: indexes.length, removed: ranges(indexes.sort((a, b) => a - b)) };
}

async function materialise(parityCase) {
  const root = join(mkdtempSync(join(tmpdir(), "record-parity-")), "cache");
  await writeCache(root, parityCase.files.map((file) => ({ ...file, size: 0 })));
  return root;
}

function oeRemoved(root) {
  const out = run("python3", [join(oeCore, "scripts/sstate-cache-management.py"), "-n", "-D", `--cache-dir=${root}`, "--remove-duplicated"]);
  return out.split("\n").filter((line) => line.startsWith(`${root}/`)).map((line) => line.slice(root.length + 1));
}

const FIXED_CLOCK = "import runpy, sys, time; now = float(sys.argv.pop(1)); time.time = lambda: now; sys.argv[0] = sys.argv[1]; del sys.argv[1]; runpy.run_path(sys.argv[0], run_name='__main__')";

function isarRemoved(root, options = []) {
  const copy = `${root}-isar`;
  cpSync(root, copy, { recursive: true, preserveTimestamps: true });
  const out = run("python3", ["-c", FIXED_CLOCK, String(DEMO_NOW / 1000), join(isar, "scripts/isar-sstate"), "clean", "-v", ...options, `file://${copy}`], { PYTHONPATH: join(bitbake, "lib") });
  rmSync(copy, { recursive: true, force: true });
  return out.split("\n").filter((line) => line.startsWith("[DELETE] ")).map((line) => line.slice("[DELETE] ".length));
}

/** The options isar-clean.yaml's header says how to express; the generated cache has isar-image recipes. */
const ISAR_OPTIONS = ["--max-sig-age", "7d", "--filter", "^(?!isar-image-)"];

const cases = [generatedCase(), isarEdgeCase()];
const roots = await Promise.all(cases.map(materialise));
const recordings = {
  "oe-remove-duplicated": {
    tool: `openembedded-core ${revision(oeCore)} scripts/sstate-cache-management.py`,
    command: "sstate-cache-management.py -n -D --cache-dir=CACHE --remove-duplicated",
    cases: Object.fromEntries(cases.map((c, i) => [c.name, record(c, oeRemoved(roots[i]))])),
  },
  "isar-clean": {
    tool: `isar ${revision(isar)} scripts/isar-sstate (bitbake ${revision(bitbake)})`,
    command: `isar-sstate clean -v file://CACHE, time.time() fixed at ${new Date(DEMO_NOW).toISOString()}`,
    cases: {
      ...Object.fromEntries(cases.map((c, i) => [c.name, record(c, isarRemoved(roots[i]))])),
      [`${cases[0].name} ${ISAR_OPTIONS.join(" ")}`]: record(cases[0], isarRemoved(roots[0], ISAR_OPTIONS)),
    },
  },
};
for (const [preset, recording] of Object.entries(recordings)) {
  writeFileSync(new URL(`../test/fixtures/parity/${preset}.json`, import.meta.url), `${JSON.stringify(recording, null, 2)}\n`);
  console.log(`${preset}: ${Object.entries(recording.cases).map(([name, c]) => `${name} ${c.removedCount} of ${c.files} removed`).join(", ")}`);
}
for (const root of roots) rmSync(join(root, ".."), { recursive: true, force: true });
