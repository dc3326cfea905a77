#!/usr/bin/env node
// `npm run bench [-- options]`: measures sstate-keeper against SPEC §8 and the tools users
// run today, prints a table with a verdict per bound, and writes the figures as JSON and
// markdown. Drives the built dist/ (npm run bench builds it first). Usage: see USAGE.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, loadavg, release, tmpdir, totalmem } from "node:os";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { markdownTable, textTable } from "./lib/format.mjs";
import { RSS_METHOD } from "./lib/measure.mjs";
import { CLI, REPO } from "./lib/paths.mjs";

const USAGE = `usage: npm run bench -- [--files N] [--remote-files N] [--objects N] [--bucket-objects N] [--age-objects N] [--runs N] [--peer-runs N] [--only SECTIONS] [--dir DIR] [--out FILE]

  --files N           local cache size (default 100000, or BENCH_FILES); SPEC §8's bound is for 1000000
  --remote-files N    S3 and WebDAV cache size (default 20000, or BENCH_REMOTE_FILES)
  --objects N         S3 Inventory report size (default 10000000, or BENCH_OBJECTS); planned once,
                      as is a report of a tenth of it, for the linearity ratio
  --bucket-objects N  bucket listed against rclone in s3-rclone (default --remote-files; e.g. 100000)
  --age-objects N     objects (half of them 400 days old, uploaded again for each run) cleaned up by
                      each tool in s3-rclone, plan + apply against rclone delete (default --bucket-objects)
  --runs N            timed runs per local measurement, best kept (default 2, or BENCH_RUNS)
  --peer-runs N       alternating runs per s3-rclone measurement, median kept (default 3)
  --only SECTIONS     comma-separated subset of local,s3,webdav,s3-rclone,inventory (default: all)
  --dir DIR         where scratch caches go (default the OS temp dir, or BENCH_DIR): a real disk
  --out FILE        results JSON (default bench/results/latest.json; markdown beside it, .md)
  --profile         profile the local plan (node --cpu-prof) and list its top self-time
                    functions; done anyway when plan misses its time bound

OE's scripts/sstate-cache-management.py is compared in the local section when
OE_SSTATE_CACHE_MANAGEMENT names it (it is never vendored); s3-rclone compares with rclone when
it is installed (Debian's rclone). Exits 1 when a bound is missed.`;
const SECTIONS = ["local", "s3", "webdav", "s3-rclone", "inventory"];

const options = parseOptions();
if (!existsSync(CLI)) fail(`${CLI} is missing: run npm run build first`);
// Imported after the check: the sections load dist/ modules.
const { benchLocal } = await import("./local.mjs");
const { benchS3, benchS3Peers, benchWebdav } = await import("./remote.mjs");
const { benchInventory } = await import("./inventory.mjs");

const startedAt = new Date();
const log = (text) => process.stderr.write(`[${((Date.now() - startedAt.getTime()) / 1000).toFixed(0).padStart(4)} s, load ${loadavg()[0].toFixed(2)}] ${text}\n`);
const machine = machineInfo();
log(`${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}; scratch in ${options.dir}`);

const results = { date: startedAt.toISOString(), machine, options, load: { start: loadavg() }, sections: {}, rows: [] };
const bench = {
  local: () => benchLocal({ files: options.files, runs: options.runs, scratchRoot: options.dir, oeScript: process.env.OE_SSTATE_CACHE_MANAGEMENT, profile: options.profile, log }),
  s3: () => benchS3({ files: options.remoteFiles, scratchRoot: options.dir, log }),
  webdav: () => benchWebdav({ files: options.remoteFiles, scratchRoot: options.dir, log }),
  "s3-rclone": () => benchS3Peers({ objects: options.bucketObjects, deleteObjects: options.ageObjects, runs: options.peerRuns, scratchRoot: options.dir, log }),
  inventory: () => benchInventory({ objects: options.objects, scratchRoot: options.dir, log }),
};
for (const section of options.only) {
  const loadBefore = loadavg();
  try {
    const { rows, figures } = await bench[section]();
    results.sections[section] = { ...figures, load: { before: loadBefore, after: loadavg() } };
    results.rows.push(...rows);
  } catch (error) {
    // One broken section (a server that would not start) must not hide the others' figures.
    log(`${section}: ${error.stack ?? error}`);
    results.sections[section] = { error: String(error.message ?? error), load: { before: loadBefore, after: loadavg() } };
    results.rows.push({ section, measure: "section failed", value: String(error.message ?? error).split("\n")[0], pass: false });
  }
}
results.load.end = loadavg();
results.wallMs = Date.now() - startedAt.getTime();

const profile = results.sections.local?.planProfile;
const profileText = profile
  ? `\nlocal plan under node --cpu-prof (${(profile.wallMs / 1000).toFixed(2)} s), top self time:\n${
    profile.topSelfTime.map((entry) => `  ${String(entry.selfMs).padStart(6)} ms  ${entry.percent.toFixed(1).padStart(5)} %  ${entry.function}`).join("\n")
  }\n`
  : "";
const heading = `${results.date}: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB RAM, ${machine.disk}, Node ${machine.node}, Linux ${machine.kernel}; load average ${
  formatLoad(results.load.start)
} at start, ${formatLoad(results.load.end)} at end`;
process.stdout.write(`\nsstate-keeper bench, ${heading}\n\n${textTable(results.rows)}\n${profileText}`);
await mkdir(dirname(options.out), { recursive: true });
await writeFile(options.out, `${JSON.stringify(results, null, 2)}\n`);
const markdownFile = options.out.replace(/\.json$/, "") + ".md";
await writeFile(markdownFile, `Measured ${heading}.\n\n${markdownTable(results.rows)}\n${profileText && `\n\`\`\`${profileText}\`\`\`\n`}`);
log(`wrote ${options.out} and ${markdownFile}`);
process.exitCode = results.rows.some((row) => row.pass === false) ? 1 : 0;

function parseOptions() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        files: { type: "string" },
        "remote-files": { type: "string" },
        objects: { type: "string" },
        "bucket-objects": { type: "string" },
        "age-objects": { type: "string" },
        "peer-runs": { type: "string" },
        runs: { type: "string" },
        only: { type: "string" },
        dir: { type: "string" },
        out: { type: "string" },
        profile: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    fail(`${error.message}\n${USAGE}`);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const only = (values.only ?? SECTIONS.join(",")).split(",").map((name) => name.trim());
  const unknown = only.find((name) => !SECTIONS.includes(name));
  if (unknown) fail(`--only: unknown section '${unknown}'; choose from ${SECTIONS.join(", ")}`);
  const remoteFiles = wholeNumber("--remote-files", values["remote-files"] ?? process.env.BENCH_REMOTE_FILES ?? "20000", 100);
  return {
    files: wholeNumber("--files", values.files ?? process.env.BENCH_FILES ?? "100000", 100),
    remoteFiles,
    objects: wholeNumber("--objects", values.objects ?? process.env.BENCH_OBJECTS ?? "10000000", 1000),
    bucketObjects: wholeNumber("--bucket-objects", values["bucket-objects"] ?? String(remoteFiles), 100),
    ageObjects: wholeNumber("--age-objects", values["age-objects"] ?? values["bucket-objects"] ?? String(remoteFiles), 100),
    peerRuns: wholeNumber("--peer-runs", values["peer-runs"] ?? "3", 1),
    runs: wholeNumber("--runs", values.runs ?? process.env.BENCH_RUNS ?? "2", 1),
    only,
    dir: resolve(values.dir ?? process.env.BENCH_DIR ?? tmpdir()),
    out: resolve(values.out ?? `${REPO}bench/results/latest.json`),
    profile: values.profile === true,
  };
}

function wholeNumber(flag, text, minimum) {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < minimum) fail(`${flag} ${text}: expected a whole number of at least ${minimum}`);
  return value;
}

function machineInfo() {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? "unknown CPU",
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    kernel: release(),
    disk: diskOf(options.dir),
    peakRssMethod: RSS_METHOD,
    commit: gitDescribe(),
  };
}

/** The filesystem type and device the scratch caches live on: the local figures depend on it. */
function diskOf(dir) {
  try {
    const [, line] = execFileSync("df", ["--output=fstype,source", dir], { encoding: "utf8" }).trim().split("\n");
    const [fsType, source] = line.trim().split(/\s+/);
    return `${fsType} on ${source}`;
  } catch {
    return "unknown filesystem";
  }
}

function gitDescribe() {
  try {
    const head = execFileSync("git", ["-C", REPO, "rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["-C", REPO, "status", "--porcelain", "--", "src"], { encoding: "utf8" }).trim() !== "";
    return dirty ? `${head} + uncommitted src/ changes` : head;
  } catch {
    return "unknown";
  }
}

function formatLoad(load) {
  return load.map((value) => value.toFixed(2)).join(" ");
}

function fail(message) {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(2);
}
