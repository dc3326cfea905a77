import { rmSync } from "node:fs";
import { mkdtemp, readFile, statfs } from "node:fs/promises";
import { loadavg } from "node:os";
import { join } from "node:path";
import { DEMO_NOW, generateCache } from "../dist/demo/generate.js";
import { onExit } from "./lib/cleanup.mjs";
import { count, mebibytes, perSecond, ratio, seconds, shortCount } from "./lib/format.mjs";
import { writeInventoryReport } from "./lib/inventory-report.mjs";
import { measureCommand, timed } from "./lib/measure.mjs";
import { CLI, POLICIES } from "./lib/paths.mjs";

/** Issue 13: planning from an inventory grows linearly (10× the objects in at most 12× the time)… */
const MAX_TIME_GROWTH_PER_10X = 12;
/** …and a 10M-object inventory plans within 3 GiB. */
const MAX_RSS_KIB = 3 * 1024 * 1024;
/** AWS writes data files of a few million rows at most; smaller ones exercise the per-file checks too. */
const OBJECTS_PER_DATA_FILE = 1_000_000;
const BUCKET = "bench-sstate";
/** Generous room per object: a gzipped CSV row (~60 bytes) and its plan line (~350 bytes). */
const BYTES_PER_OBJECT = 512;

/**
 * The S3 Inventory section: writes generated inventory reports (the demo generator's names, in
 * AWS's CSV format: nothing is put on a server, no file per object on disk) of `objects` and of
 * a tenth of that, and times `plan --listing` on each with its peak RSS: the ratio of the two
 * times shows whether planning grows linearly.
 */
export async function benchInventory({ objects, scratchRoot, log }) {
  const sizes = [Math.round(objects / 10), objects];
  const free = await statfs(scratchRoot);
  if (free.bavail * free.bsize < objects * 1.1 * BYTES_PER_OBJECT) throw new Error(`${scratchRoot}: not enough free space for ${count(objects)} objects' reports and plans; choose another with --dir`);
  const work = await mkdtemp(join(scratchRoot, "sstate-keeper-bench-inventory-"));
  const removeWork = onExit(`scratch tree ${work}`, () => rmSync(work, { recursive: true, force: true }));
  const rows = [];
  const figures = { objects: sizes };
  try {
    const planned = {};
    for (const size of sizes) {
      const label = shortCount(size);
      log(`inventory: writing a ${count(size)}-object report`);
      const written = await timed(() =>
        writeInventoryReport(join(work, `report-${size}`), {
          sourceBucket: BUCKET,
          createdAt: DEMO_NOW - 6 * 3_600_000,
          objectsPerFile: OBJECTS_PER_DATA_FILE,
          objects: (function* () {
            let n = 0;
            let chunk = [];
            // Each data file lists its keys in order, as AWS's do; the files' key ranges overlap.
            const sortedChunk = () => chunk.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).splice(0);
            for (const file of generateCache({ files: size, now: DEMO_NOW })) {
              // A distinct ETag per object without an MD5 per row (the writer's default), which would dominate writing 10M rows.
              chunk.push({ key: `sstate/${file.path}`, size: file.size, mtimeMs: file.mtimeMs, etag: (n++).toString(16).padStart(32, "0") });
              if (chunk.length === OBJECTS_PER_DATA_FILE) yield* sortedChunk();
            }
            yield* sortedChunk();
          })(),
        })
      );
      rows.push({
        section: "inventory",
        measure: `write a ${label}-object inventory report (${count(written.value.manifest.files.length)} data file${written.value.manifest.files.length === 1 ? "" : "s"})`,
        value: `${seconds(written.wallMs)} (${perSecond(size, written.wallMs)})`,
      });
      const loadBefore = loadavg();
      log(`inventory: plan --listing on ${count(size)} objects (load ${loadBefore[0].toFixed(2)})`);
      const out = join(work, `plan-${size}.json`);
      let plan;
      try {
        plan = await measureCommand(
          process.execPath,
          [CLI, "plan", "--policy", POLICIES.example, "--target", `s3://${BUCKET}/sstate`, "--listing", written.value.manifestPath, "--now", new Date(DEMO_NOW).toISOString(), "--out", out],
          { cwd: work, scratchDir: work },
        );
      } catch (error) {
        // A plan that runs out of memory (V8's heap limit) is a figure too; the other size's stay.
        const reason = /heap out of memory/.test(error.message) ? "ran out of JavaScript heap (V8's default limit)" : error.message.split("\n")[0];
        log(`inventory: plan --listing on ${count(size)} objects failed: ${reason}`);
        rows.push({ section: "inventory", measure: `plan --listing example.yaml, ${label} objects`, value: `failed: ${reason}, load ${loadBefore[0].toFixed(2)}`, pass: false });
        figures.failed = { ...figures.failed, [size]: reason };
        continue;
      }
      const deletes = JSON.parse((await readFile(out, "utf8")).slice(0, 1 << 20).replace(/,\s*"delete": \[[\s\S]*$/, "}")).summary.delete.files;
      planned[size] = { ...plan, deletes, loadBefore };
      rows.push(
        {
          section: "inventory",
          measure: `plan --listing example.yaml, ${label} objects`,
          value: `${seconds(plan.wallMs)} (${perSecond(size, plan.wallMs)}), ${count(deletes)} to delete, load ${loadBefore[0].toFixed(2)}`,
        },
        {
          section: "inventory",
          measure: `plan --listing peak RSS, ${label} objects`,
          value: mebibytes(plan.peakRssKiB),
          ...(size === objects ? { bound: `≤ 3072 MiB (issue 13, 10M)`, pass: plan.peakRssKiB <= MAX_RSS_KIB } : {}),
        },
      );
    }
    figures.plans = Object.fromEntries(Object.entries(planned).map(([size, { wallMs, peakRssKiB, deletes, loadBefore }]) => [size, { wallMs, peakRssKiB, deletes, loadBefore }]));
    const [small, large] = sizes.map((size) => planned[size]);
    if (small === undefined || large === undefined) return { rows, figures };
    const growth = large.wallMs / small.wallMs;
    figures.timeGrowth = growth;
    rows.push({
      section: "inventory",
      measure: `plan time ${shortCount(objects)} ÷ ${shortCount(sizes[0])} objects`,
      value: ratio(growth),
      bound: `≤ ${MAX_TIME_GROWTH_PER_10X}× (linear, issue 13)`,
      pass: growth <= MAX_TIME_GROWTH_PER_10X,
    });
    return { rows, figures };
  } finally {
    removeWork();
  }
}
