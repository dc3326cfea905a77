import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { rmSync } from "node:fs";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { join } from "node:path";
import { DEFAULT_TIMEOUTS } from "../dist/backends/backend.js";
import { parseTarget } from "../dist/backends/index.js";
import { DEMO_NOW, generateCache } from "../dist/demo/generate.js";
import { writeCache } from "../dist/demo/write.js";
import { mapConcurrent } from "../dist/util/concurrency.js";
import { Redactor } from "../dist/util/secrets.js";
import { onExit } from "./lib/cleanup.mjs";
import { count, mebibytes, perSecond, ratio, requestCounts, seconds, shortCount } from "./lib/format.mjs";
import { gatewayRequests } from "./lib/gateway-log.mjs";
import { runCli } from "./lib/in-process-cli.mjs";
import { measureCommand, medianOfAlternating, timed } from "./lib/measure.mjs";
import { CLI, POLICIES } from "./lib/paths.mjs";
import { rcloneArgs, rcloneEnv, rcloneVersion } from "./lib/rclone.mjs";
import { startRadosgw, startWebdav } from "./lib/servers.mjs";

/** SPEC §8: at least this many requests in flight (S3; WebDAV when listing by Depth: 1). */
const MIN_IN_FLIGHT = 8;
const S3_PAGE = 1000;
const S3_DELETE_BATCH = 1000;
/** src/backends/s3.ts: listing streams at most. */
const LIST_STREAMS = 8;
/** apply's default batches in flight. */
const APPLY_CONCURRENCY = 8;
const UPLOAD_CONCURRENCY = 32;
const BUCKET = "sstate-bench";
/**
 * Both remote caches are planned with OE's --remove-duplicated parity policy: it deletes every
 * older duplicate whatever the ages, so S3 objects (whose LastModified is the upload time) get
 * a realistic share of deletions too.
 */
const POLICY = POLICIES.oeRemoveDuplicated;

/**
 * S3 on a real Ceph radosgw: uploads a generated cache (empty bodies: the memstore OSD holds
 * everything in RAM, and request counts do not depend on sizes), then plans and applies it
 * with the CLI, checking its request counts and concurrency against SPEC §8.
 */
export async function benchS3({ files, scratchRoot, log }) {
  const rows = [];
  const figures = { files };
  const label = shortCount(files);
  log("s3: starting radosgw");
  const server = await startRadosgw(scratchRoot);
  const work = await scratchDir(scratchRoot, "s3");
  try {
    const env = { ...process.env, ...server.env };
    await createBucket(server.env);
    const target = `s3://${BUCKET}/cache`;
    const paths = [...generateCache({ files, now: Date.now() })].map((file) => file.path);

    log(`s3: uploading ${count(files)} objects, ${UPLOAD_CONCURRENCY} in flight`);
    const uploaded = await timed(() => upload(target, paths, env, work.dir));
    figures.upload = { wallMs: uploaded.wallMs, concurrency: UPLOAD_CONCURRENCY };
    rows.push({ section: "s3", measure: `upload ${label} objects (PutObject, ${UPLOAD_CONCURRENCY} in flight)`, value: `${seconds(uploaded.wallMs)} (${perSecond(files, uploaded.wallMs)})` });

    rows.push(loadRow("s3"));
    log("s3: plan");
    const planFile = join(work.dir, "plan.json");
    const plan = await runCli(["plan", "--policy", POLICY, "--target", target, "--out", planFile], { cwd: work.dir, env });
    const planned = JSON.parse(await readFile(planFile, "utf8"));
    const listed = planned.listing.files;
    const pages = Math.ceil(listed / S3_PAGE);
    // One request more than the pages per listing stream (its last page runs past its key range).
    const listBound = pages + LIST_STREAMS;
    const listRequests = plan.requestCounts.ListObjectsV2 ?? 0;
    figures.plan = { wallMs: plan.wallMs, listed, deletes: planned.delete.length, requestCounts: plan.requestCounts, peakInFlight: plan.backendPeakInFlight, wire: plan.wire };
    rows.push(
      { section: "s3", measure: `plan ${label} objects`, value: `${seconds(plan.wallMs)}; ${requestCounts(plan.requestCounts)}` },
      { section: "s3", measure: "objects listed", value: count(listed), bound: `= ${count(files)} uploaded`, pass: listed === files },
      { section: "s3", measure: "list requests", value: count(listRequests), bound: `≤ ⌈${count(listed)}/1000⌉ + ${LIST_STREAMS} streams = ${count(listBound)}`, pass: listRequests <= listBound },
      // The listing splits only into ranges of at least two pages: all streams run once the rest holds 2 × LIST_STREAMS pages.
      {
        section: "s3",
        measure: "list requests in flight (peak)",
        value: inFlight(plan),
        bound: `≥ ${MIN_IN_FLIGHT} beyond ${2 * LIST_STREAMS + 1} pages`,
        pass: pages <= 2 * LIST_STREAMS + 1 ? undefined : plan.backendPeakInFlight >= MIN_IN_FLIGHT,
      },
    );

    const deletes = planned.delete.length;
    log(`s3: apply (${count(deletes)} deletions)`);
    const applied = await runCli(["apply", planFile], { cwd: work.dir, env });
    const deleteRequests = applied.requestCounts.DeleteObjects ?? 0;
    // Fewer deletions than fill APPLY_CONCURRENCY full batches are spread over that many (src/apply/executor.ts);
    // the files that follow an archive (its .siginfo, .done) go in a second pass, one batch more.
    const deleteBound = Math.max(Math.ceil(deletes / S3_DELETE_BATCH), Math.min(deletes, APPLY_CONCURRENCY)) + 1;
    const remaining = await countListed(target, work.dir, env);
    figures.apply = { wallMs: applied.wallMs, deletes, requestCounts: applied.requestCounts, peakInFlight: applied.backendPeakInFlight, wire: applied.wire, remaining };
    rows.push(
      { section: "s3", measure: `apply: ${count(deletes)} deletions`, value: `${seconds(applied.wallMs)} (${perSecond(deletes, applied.wallMs)}); ${requestCounts(applied.requestCounts)}` },
      {
        section: "s3",
        measure: "delete requests",
        value: count(deleteRequests),
        bound: `≤ max(⌈${count(deletes)}/1000⌉, ${APPLY_CONCURRENCY}) + 1 = ${deleteBound}`,
        pass: deleteRequests <= deleteBound,
      },
      { section: "s3", measure: "apply requests in flight (peak)", value: inFlight(applied), bound: `≥ ${MIN_IN_FLIGHT}`, pass: applied.backendPeakInFlight >= MIN_IN_FLIGHT },
      { section: "s3", measure: "DeleteObjects in flight (peak, HTTP layer)", value: count(applied.wire.peakInFlightByKind.POST ?? 0) },
      { section: "s3", measure: "objects left after apply", value: count(remaining), bound: `= ${count(listed - deletes)}`, pass: remaining === listed - deletes },
    );
    return { rows, figures };
  } finally {
    log("s3: stopping radosgw");
    server.stop();
    work.remove();
  }
}

/**
 * WebDAV on a real Apache mod_dav_fs: one server allowing PROPFIND Depth: infinity and one
 * refusing it (Apache's default), both serving the same generated cache written straight into
 * their document directories (real sizes as sparse files, generated mtimes: Apache reports the
 * file's own). The first is planned and applied, the second planned, with request counts
 * checked against SPEC §8.
 */
export async function benchWebdav({ files, scratchRoot, log }) {
  const rows = [];
  const figures = { files };
  const label = shortCount(files);
  log("webdav: starting Apache with and without Depth: infinity");
  const servers = [];
  const work = await scratchDir(scratchRoot, "webdav");
  try {
    servers.push(await startWebdav(scratchRoot, { depthInfinity: true }), await startWebdav(scratchRoot, { depthInfinity: false }));
    const [full, fallback] = servers;
    const generated = [...generateCache({ files, now: DEMO_NOW })];
    for (const server of servers) await writeCache(server.dataDir, generated);
    const collections = collectionsOf(generated.map((file) => file.path));
    const env = { ...process.env };

    rows.push(loadRow("webdav"));
    log("webdav: plan (Depth: infinity allowed)");
    const planFile = join(work.dir, "plan.json");
    const plan = await runCli(["plan", "--policy", POLICY, "--target", full.url, "--out", planFile], { cwd: work.dir, env });
    const planned = JSON.parse(await readFile(planFile, "utf8"));
    const listed = planned.listing.files;
    const propfinds = propfindCounts(plan.requestCounts);
    figures.plan = { wallMs: plan.wallMs, listed, deletes: planned.delete.length, requestCounts: plan.requestCounts, wire: plan.wire };
    rows.push(
      { section: "webdav", measure: `plan ${label} files, Depth: infinity allowed`, value: `${seconds(plan.wallMs)}; ${requestCounts(plan.requestCounts)}` },
      { section: "webdav", measure: "files listed", value: count(listed), bound: `= ${count(files)} written`, pass: listed === files },
      {
        section: "webdav",
        measure: "listing PROPFINDs, Depth: infinity allowed",
        value: `${propfinds.infinity} Depth: infinity, ${propfinds.one} Depth: 1`,
        bound: "1 Depth: infinity, nothing else",
        pass: propfinds.infinity === 1 && propfinds.total === 1,
      },
    );

    const deletes = planned.delete.length;
    log(`webdav: apply (${count(deletes)} deletions)`);
    const applied = await runCli(["apply", planFile], { cwd: work.dir, env });
    figures.apply = { wallMs: applied.wallMs, deletes, requestCounts: applied.requestCounts, wire: applied.wire };
    rows.push(
      { section: "webdav", measure: `apply: ${count(deletes)} deletions`, value: `${seconds(applied.wallMs)} (${perSecond(deletes, applied.wallMs)}); ${requestCounts(applied.requestCounts)}` },
      { section: "webdav", measure: "DELETEs in flight (peak, HTTP layer)", value: count(applied.wire.peakInFlightByKind.DELETE ?? 0) },
    );

    log("webdav: plan (Depth: infinity refused)");
    const fallbackPlan = await runCli(["plan", "--policy", POLICY, "--target", fallback.url, "--out", join(work.dir, "fallback-plan.json")], { cwd: work.dir, env });
    const fallbackPropfinds = propfindCounts(fallbackPlan.requestCounts);
    const fallbackListed = JSON.parse(await readFile(join(work.dir, "fallback-plan.json"), "utf8")).listing.files;
    figures.fallbackPlan = { wallMs: fallbackPlan.wallMs, listed: fallbackListed, collections, requestCounts: fallbackPlan.requestCounts, wire: fallbackPlan.wire };
    rows.push(
      { section: "webdav", measure: `plan ${label} files, Depth: infinity refused`, value: `${seconds(fallbackPlan.wallMs)}; ${requestCounts(fallbackPlan.requestCounts)}` },
      { section: "webdav", measure: "files listed, Depth: infinity refused", value: count(fallbackListed), bound: `= ${count(files)} written`, pass: fallbackListed === files },
      {
        section: "webdav",
        measure: "Depth: 1 PROPFINDs when infinity is refused",
        value: `${count(fallbackPropfinds.one)} (+ ${fallbackPropfinds.infinity} refused Depth: infinity)`,
        bound: `≤ ${count(collections)} collections`,
        pass: fallbackPropfinds.one <= collections && fallbackPropfinds.infinity <= 1,
      },
      {
        section: "webdav",
        measure: "Depth: 1 PROPFINDs in flight (peak, HTTP layer)",
        value: count(fallbackPlan.wire.peakInFlightByKind["PROPFIND depth=1"] ?? 0),
        bound: `≥ ${MIN_IN_FLIGHT}`,
        pass: (fallbackPlan.wire.peakInFlightByKind["PROPFIND depth=1"] ?? 0) >= MIN_IN_FLIGHT,
      },
    );
    return { rows, figures };
  } finally {
    log("webdav: stopping Apache");
    for (const server of servers) server.stop();
    work.remove();
  }
}

function loadRow(section) {
  return { section, measure: "load average (1, 5, 15 min) before timing", value: loadavg().map((load) => load.toFixed(2)).join(", ") };
}

function openOptions() {
  return { timeouts: DEFAULT_TIMEOUTS, secrets: new Redactor() };
}

/** Empty objects at the paths (the memstore OSD holds everything in RAM; listing and deleting do not depend on sizes). */
async function upload(target, paths, env, cwd) {
  const uploader = await parseTarget(target, cwd).open(env, openOptions());
  const empty = new Uint8Array(0);
  try {
    await mapConcurrent(paths, UPLOAD_CONCURRENCY, (path) => uploader.put(path, empty));
  } finally {
    await uploader.close();
  }
}

async function createBucket(serverEnv, bucket = BUCKET) {
  // The switch S3Backend.open sets too: without it the SDK warns on stderr that Node 20 support ends.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const client = new S3Client({
    endpoint: serverEnv.AWS_ENDPOINT_URL_S3,
    region: serverEnv.AWS_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: serverEnv.AWS_ACCESS_KEY_ID, secretAccessKey: serverEnv.AWS_SECRET_ACCESS_KEY },
  });
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } finally {
    client.destroy();
  }
}

/** Every directory holding the files (the root included): what a Depth: 1 crawl must list. */
function collectionsOf(paths) {
  const collections = new Set([""]);
  for (const path of paths) {
    for (let slash = path.indexOf("/"); slash > 0; slash = path.indexOf("/", slash + 1)) collections.add(path.slice(0, slash));
  }
  return collections.size;
}

function propfindCounts(counts) {
  const infinity = counts["PROPFIND depth=infinity"] ?? 0;
  const one = counts["PROPFIND depth=1"] ?? 0;
  return { infinity, one, total: infinity + one + (counts["PROPFIND depth=0"] ?? 0) };
}

/** S3's own peak, and the HTTP layer's as a cross-check. */
function inFlight(result) {
  return `${result.backendPeakInFlight} (HTTP layer ${result.wire.peakInFlight})`;
}

async function countListed(target, cwd, env) {
  const backend = await parseTarget(target, cwd).open(env, openOptions());
  try {
    let listed = 0;
    for await (const batch of backend.list()) listed += batch.length;
    return listed;
  } finally {
    await backend.close();
  }
}

async function scratchDir(scratchRoot, name) {
  const dir = await mkdtemp(join(scratchRoot, `sstate-keeper-bench-${name}-`));
  return { dir, remove: onExit(`scratch directory ${dir}`, () => rmSync(dir, { recursive: true, force: true })) };
}

/** Issue 13: the listing sends at most this many times rclone's requests… */
const MAX_REQUESTS_TO_RCLONE = 1.5;
/** …and plan + apply of an age policy takes at most this many times rclone delete's wall time. */
const MAX_AGE_CLEANUP_TO_RCLONE = 1;
const PEERS = "s3 vs rclone";
const PEER_BUCKET = "sstate-peers";
const AGE_POLICY = `version: 1
rules:
  - name: expire
    delete: { older-than: 30d }
`;

/**
 * sstate-keeper against rclone (Debian's) on one radosgw, alternating runs, medians: listing a
 * bucket of `objects` (the backend's listing in-process, `plan` as a process, `rclone lsf -R`,
 * `rclone lsl --use-server-modtime`), then cleaning up `deleteObjects` objects, half of them
 * 400 days old, freshly uploaded for each run and tool: `plan` + `apply` of an age policy
 * against `rclone delete --min-age 30d --use-server-modtime`. Requests are counted by the
 * server (its access log), the same way for both tools.
 */
export async function benchS3Peers({ objects, deleteObjects, runs, scratchRoot, log }) {
  const rows = [];
  const rclone = await rcloneVersion();
  if (rclone === undefined) {
    for (const measure of [`list ${shortCount(objects)} objects`, `plan + apply of an age policy, ${shortCount(deleteObjects)} objects`]) {
      rows.push({ section: PEERS, measure, value: "not run: install rclone" });
    }
    return { rows, figures: { objects, deleteObjects, rclone: null } };
  }
  const figures = { objects, deleteObjects, runs, rclone };
  log(`${PEERS}: starting radosgw (${rclone})`);
  const server = await startRadosgw(scratchRoot);
  const work = await scratchDir(scratchRoot, "peers");
  try {
    const env = { ...process.env, ...server.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" };
    const peerEnv = rcloneEnv(server.env);
    const requests = gatewayRequests(server.logFile);
    const counted = (measure) => async (run) => {
      const mark = await requests.mark();
      const result = await measure(run);
      return { ...result, requests: await requests.since(mark) };
    };
    const command = (file, args, commandEnv) => measureCommand(file, args, { cwd: work.dir, scratchDir: work.dir, env: commandEnv });
    await createBucket(server.env, PEER_BUCKET);

    const target = `s3://${PEER_BUCKET}/cache`;
    const paths = [...generateCache({ files: objects, now: Date.now() })].map((file) => file.path);
    log(`${PEERS}: uploading ${count(objects)} objects, ${UPLOAD_CONCURRENCY} in flight`);
    const uploaded = await timed(() => upload(target, paths, env, work.dir));
    rows.push({ section: PEERS, measure: `upload ${shortCount(objects)} objects`, value: `${seconds(uploaded.wallMs)} (${perSecond(objects, uploaded.wallMs)})` }, loadRow(PEERS));

    log(`${PEERS}: listing ${count(objects)} objects, ${runs} alternating runs`);
    const planFile = join(work.dir, "plan.json");
    const listing = await medianOfAlternating(runs, {
      "sstate-keeper listing (in-process)": counted(async () => {
        const { value, wallMs } = await timed(() => countListed(target, work.dir, env));
        return { wallMs, listed: value, peakRssKiB: undefined };
      }),
      "sstate-keeper plan (process)": counted(async () => ({ ...(await command(process.execPath, [CLI, "plan", "--policy", POLICY, "--target", target, "--out", planFile], env)), listed: objects })),
      "rclone lsf -R": counted(async () => ({ ...(await command("rclone", rcloneArgs("lsf", `${PEER_BUCKET}/cache`, "-R"), peerEnv)), listed: objects })),
      "rclone lsl --use-server-modtime": counted(async () => ({ ...(await command("rclone", rcloneArgs("lsl", `${PEER_BUCKET}/cache`, "--use-server-modtime"), peerEnv)), listed: objects })),
    });
    figures.listing = listing;
    for (const [name, result] of Object.entries(listing)) {
      rows.push({
        section: PEERS,
        measure: `${name}, ${shortCount(objects)} objects (median of ${runs})`,
        value: `${seconds(result.wallMs)} (${perSecond(objects, result.wallMs)}); ${count(result.requests.total)} requests${result.peakRssKiB ? `; ${mebibytes(result.peakRssKiB)} RSS` : ""}`,
      });
    }
    const keeper = listing["sstate-keeper listing (in-process)"];
    const listedOk = keeper.runs.every((run) => run.listed === objects);
    rows.push({ section: PEERS, measure: "objects listed by sstate-keeper, every run", value: count(keeper.listed), bound: `= ${count(objects)} uploaded`, pass: listedOk });
    for (const peer of ["rclone lsl --use-server-modtime", "rclone lsf -R"]) {
      const other = listing[peer];
      const requestRatio = keeper.requests.total / other.requests.total;
      rows.push(
        { section: PEERS, measure: `listing wall time ÷ ${peer}`, value: ratio(keeper.wallMs / other.wallMs), bound: "≤ 1× (objects/s at least rclone's)", pass: keeper.wallMs <= other.wallMs },
        {
          section: PEERS,
          measure: `listing requests ÷ ${peer}`,
          value: `${ratio(requestRatio)} (${count(keeper.requests.total)} vs ${count(other.requests.total)})`,
          bound: `≤ ${MAX_REQUESTS_TO_RCLONE}×`,
          pass: requestRatio <= MAX_REQUESTS_TO_RCLONE,
        },
      );
    }
    const plan = listing["sstate-keeper plan (process)"];
    rows.push({ section: PEERS, measure: "plan (process) wall time ÷ rclone lsl --use-server-modtime", value: ratio(plan.wallMs / listing["rclone lsl --use-server-modtime"].wallMs) });

    await benchAgeCleanup({ deleteObjects, runs, server, env, peerEnv, work, counted, command, rows, figures, log });
    return { rows, figures };
  } finally {
    log(`${PEERS}: stopping radosgw`);
    server.stop();
    work.remove();
  }
}

/** plan + apply of an age policy against rclone delete, each run on objects of its own uploaded just before. */
async function benchAgeCleanup({ deleteObjects, runs, server, env, peerEnv, work, counted, command, rows, figures, log }) {
  const policy = join(work.dir, "age.yaml");
  await writeFile(policy, AGE_POLICY);
  // Archives only: both tools then have the same objects to delete (sstate-keeper keeps files it cannot name).
  const paths = [...generateCache({ files: deleteObjects * 2, now: Date.now() })].map((file) => file.path).filter((path) => path.includes("/sstate:")).slice(0, deleteObjects);
  const old = paths.filter((_, index) => index % 2 === 0);
  const fresh = paths.filter((_, index) => index % 2 === 1);
  // Each tool cleans a prefix of its own: the fresh objects are uploaded once, the old ones again before each run.
  const prefixOf = (tool) => `${PEER_BUCKET}/age-${tool}`;
  log(`${PEERS}: uploading ${count(fresh.length)} fresh objects for each tool`);
  await Promise.all(["keeper", "rclone"].map((tool) => upload(`s3://${prefixOf(tool)}`, fresh, server.env, work.dir)));
  const cleaning = (tool, clean) => async (run) => {
    log(`${PEERS}: run ${run + 1}: uploading ${count(old.length)} objects 400 days old for ${tool}`);
    await upload(`s3://${prefixOf(tool)}`, old, server.fakedEnv, work.dir);
    const result = await counted(() => clean(run))();
    return { ...result, left: await countListed(`s3://${prefixOf(tool)}`, work.dir, env) };
  };
  const cleanup = await medianOfAlternating(runs, {
    "sstate-keeper plan + apply": cleaning("keeper", async (run) => {
      const planFile = join(work.dir, `age-plan-${run}.json`);
      const planned = await command(process.execPath, [CLI, "plan", "--policy", policy, "--target", `s3://${prefixOf("keeper")}`, "--out", planFile], env);
      const applied = await command(process.execPath, [CLI, "apply", planFile], env);
      return { wallMs: planned.wallMs + applied.wallMs, planMs: planned.wallMs, applyMs: applied.wallMs };
    }),
    "rclone delete --min-age 30d --use-server-modtime": cleaning("rclone", async () => ({
      wallMs: (await command("rclone", rcloneArgs("delete", prefixOf("rclone"), "--min-age", "30d", "--use-server-modtime"), peerEnv)).wallMs,
    })),
  });
  figures.ageCleanup = cleanup;
  const keeper = cleanup["sstate-keeper plan + apply"];
  const peer = cleanup["rclone delete --min-age 30d --use-server-modtime"];
  const label = `${shortCount(paths.length)} objects, ${count(old.length)} old`;
  rows.push(
    loadRow(PEERS),
    {
      section: PEERS,
      measure: `sstate-keeper plan + apply, ${label} (median of ${runs})`,
      value: `${seconds(keeper.wallMs)} (plan ${seconds(keeper.planMs)}, apply ${seconds(keeper.applyMs)}; ${perSecond(old.length, keeper.wallMs)}); ${count(keeper.requests.total)} requests (${
        requestCounts(keeper.requests.byMethod)
      })`,
    },
    {
      section: PEERS,
      measure: `rclone delete --min-age 30d --use-server-modtime, ${label} (median of ${runs})`,
      value: `${seconds(peer.wallMs)} (${perSecond(old.length, peer.wallMs)}); ${count(peer.requests.total)} requests (${requestCounts(peer.requests.byMethod)})`,
    },
    {
      section: PEERS,
      measure: `objects left of ${count(fresh.length)} fresh, each run`,
      // sstate-keeper also deletes the fresh files that follow an old archive (its .done marker, siginfo).
      value: `sstate-keeper ${keeper.runs.map((run) => count(run.left)).join(", ")}; rclone ${peer.runs.map((run) => count(run.left)).join(", ")}`,
      bound: `rclone = ${count(fresh.length)}; sstate-keeper ≤ that`,
      pass: peer.runs.every((run) => run.left === fresh.length) && keeper.runs.every((run) => run.left <= fresh.length),
    },
    {
      section: PEERS,
      measure: "plan + apply wall time ÷ rclone delete",
      value: ratio(keeper.wallMs / peer.wallMs),
      bound: `≤ ${MAX_AGE_CLEANUP_TO_RCLONE}×`,
      pass: keeper.wallMs <= peer.wallMs * MAX_AGE_CLEANUP_TO_RCLONE,
    },
  );
}
