// S3 (radosgw) under a hostile network and hostile servers, through the CLI in-process:
// plan + apply of thousands of deletions through the fault proxy at 5% and 20%, silent and
// stalling servers with the default timeouts, a server that reflects request headers, refused
// credentials, and a key with a control character.

import { readFileSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { afterAll, describe, expect, inject, it } from "vitest";
import type { FileResult } from "../../src/apply/outcome.ts";
import { type Env, parseTarget } from "../../src/backends/index.ts";
import { decodeListedKey } from "../../src/backends/s3-keys.ts";
import { run } from "../../src/cli/main.ts";
import { parsePlan } from "../../src/plan/read-plan.ts";
import { mapConcurrent } from "../../src/util/concurrency.ts";
import { TOOL } from "../../src/util/version.ts";
import { type FaultProxy, NETWORK_FAULTS, startFaultProxy, startSilentServer } from "../support/fault-proxy.ts";
import type {} from "../support/global-servers.ts";
import { openOptions, testIo } from "../support/io.ts";
import { sstatePath } from "../support/listing.ts";

const s3 = inject("s3");
const POLICY = `version: 1
rules:
  - name: keep-me
    keep: { pn: keep-me }
  - name: expire
    delete: { older-than: 300d }
`;
/** The bound the defaults promise is 2 minutes; the tests allow less so that a regression shows. */
const DEFAULT_TIMEOUT_BOUND_MS = 110_000;

const s3Env = (endpoint: string, extra: Env = {}): Env => ({
  AWS_ENDPOINT_URL_S3: endpoint,
  AWS_ACCESS_KEY_ID: s3.accessKeyId,
  AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
  AWS_REGION: s3.region,
  ...extra,
});
const admin = new S3Client({ endpoint: s3.endpoint, region: s3.region, forcePathStyle: true, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
afterAll(() => admin.destroy());

async function cli(argv: string[], env: Env, cwd: string) {
  const io = testIo({ cwd, env });
  const started = Date.now();
  const code = await run(argv, io);
  return { code, stdout: io.stdoutText, stderr: io.stderrText, ms: Date.now() - started };
}

let buckets = 0;
async function freshBucket(): Promise<string> {
  const bucket = `faults-${process.pid}-${Date.now().toString(36)}-${buckets++}`;
  await admin.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

async function workDir(): Promise<string> {
  const work = await mkdtemp(join(tmpdir(), "keeper-faults-s3-"));
  await writeFile(join(work, "policy.yaml"), POLICY);
  return work;
}

/** Keys under the prefix, straight from radosgw (URL-encoded, so that any key comes back intact). */
async function keysUnder(bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await admin.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token, EncodingType: "url" }));
    keys.push(...(page.Contents ?? []).map((o) => decodeListedKey(o.Key!).slice(prefix.length)));
    token = page.NextContinuationToken;
  } while (token !== undefined);
  return keys.sort();
}

interface SeedFile {
  path: string;
  old: boolean;
}

/** Puts the files under s3://bucket/prefix, the old ones through the gateway whose clock runs 400 days behind. */
async function seed(bucket: string, prefix: string, files: readonly SeedFile[]): Promise<void> {
  const writer = (endpoint: string) => parseTarget(`s3://${bucket}/${prefix}`, "/").open(s3Env(endpoint), openOptions());
  const [now, past] = await Promise.all([writer(s3.endpoint), writer(s3.fakedEndpoint)]);
  await mapConcurrent(files, 48, (f, i) => (f.old ? past : now).put(f.path, new Uint8Array(i % 61)));
  await Promise.all([now.close(), past.close()]);
}

/** A fresh archive: a plan that would delete every archive is refused by the allow-empty guard. */
const FRESH = sstatePath({ pn: "zlib", arch: "core2-64", task: "populate_sysroot", seed: "fresh" });

/** A plan for six old objects (and one fresh kept), made against the real endpoint: for the runs against broken ones. */
async function smallPlan(): Promise<{ work: string; bucket: string }> {
  const bucket = await freshBucket();
  const old = Array.from({ length: 6 }, (_, i) => ({ path: sstatePath({ pn: "zlib", arch: "core2-64", task: "populate_sysroot", seed: `small-${i}` }), old: true }));
  await seed(bucket, "sstate", [...old, { path: FRESH, old: false }]);
  const work = await workDir();
  const planned = await cli(["plan", "--policy", "policy.yaml", "--target", `s3://${bucket}/sstate`, "--out", "plan.json"], s3Env(s3.endpoint), work);
  expect(planned.code).toBe(0);
  return { work, bucket };
}

function oneLine(stderr: string): string {
  const lines = stderr.trim().split("\n");
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

// The waits of the default-timeout runs (about 75 s each) overlap each other and the fault suite.
describe.concurrent("S3 against a server that does not answer, with the default timeouts", () => {
  it.each([
    { command: "info", server: "silent", operation: "HeadBucket" },
    { command: "apply", server: "silent", operation: "HeadBucket" },
    { command: "info", server: "stalling after the headers", operation: "ListObjectsV2" },
    { command: "apply", server: "stalling after the headers", operation: "ListObjectsV2" },
  ])(
    "$command with a $server server ends with exit 1 and one line naming the endpoint and $operation",
    async ({ command, server, operation }) => {
      const silent = server === "silent";
      const endpoint: { url: string; stop(): Promise<void> } = silent
        ? await startSilentServer()
        : await startFaultProxy({ upstream: s3.endpoint, rate: 1, seed: 1, kinds: ["stall-after-headers"], applies: (method) => method === "GET" });
      try {
        const { work, bucket } = command === "apply" ? await smallPlan() : { work: await workDir(), bucket: await freshBucket() };
        // Three batches of two: apply stops once three calls in a row have failed.
        const argv = command === "info" ? ["info", `s3://${bucket}`] : ["apply", "plan.json", "--batch-size", "2"];
        const result = await cli(argv, s3Env(endpoint.url), work);
        console.log(`[faults-s3] ${command} against a ${server} server: exit ${result.code} after ${(result.ms / 1000).toFixed(1)} s: ${result.stderr.trim().split("\n").at(-1)}`);
        expect(result.code).toBe(1);
        expect(result.ms).toBeLessThan(DEFAULT_TIMEOUT_BOUND_MS);
        const line = command === "info" ? oneLine(result.stderr) : result.stderr.split("\n")[0]!;
        expect(line).toContain(`S3 endpoint ${endpoint.url} did not answer ${operation} s3://${bucket}`);
        expect(line).toMatch(/within 15 s \(\d+ attempts in [\d.]+ s\)/);
        expect(line).not.toMatch(/TimeoutError|@smithy|internal error/);
        expect(await keysUnder(bucket, "sstate/")).toHaveLength(command === "apply" ? 7 : 0);
      } finally {
        await endpoint.stop();
      }
    },
    180_000,
  );
});

/** ~5,700 objects, 5,130 of them planned: archive + siginfo per build, 90% of builds 400 days old, every tenth old one kept by pn. */
function faultSuiteCache(): SeedFile[] {
  const files: SeedFile[] = [];
  for (let i = 0; i < 2_850; i++) {
    const old = i % 20 !== 0;
    const pn = i % 20 === 10 ? "keep-me" : ["busybox", "zlib", "openssl", "glibc", "libsigc++-2.0"][i % 5]!;
    const archive = sstatePath({
      pn,
      arch: "core2-64",
      task: ["populate_sysroot", "package", "packagedata"][i % 3]!,
      seed: `faults-${i}`,
      pv: "1.0+gitAUTOINC+5d8327406d",
      nativelsb: i % 7 === 0 ? "universal" : undefined,
    });
    files.push({ path: archive, old }, { path: `${archive}.siginfo`, old });
  }
  files.push({ path: "README", old: true });
  return files;
}

function journaled(file: string): FileResult[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as FileResult)
    .filter((entry) => typeof entry.path === "string" && typeof entry.outcome === "string");
}

describe.concurrent("plan and apply of 5,000+ S3 deletions through a faulty network", () => {
  const content = faultSuiteCache();
  const planned = content.filter((f) => f.old && !f.path.includes("sstate:keep-me:") && f.path !== "README").map((f) => f.path).sort();

  it.each([
    { rate: 0.05, seed: 5 },
    { rate: 0.2, seed: 20 },
  ])(
    "at $rate: the plan is exact, nothing outside it is deleted, nothing reported done is still there, and a plain re-run ends at before minus plan",
    async ({ rate, seed: faultSeed }) => {
      expect(planned.length).toBeGreaterThanOrEqual(5_000);
      const bucket = await freshBucket();
      await seed(bucket, "sstate", content);
      const before = await keysUnder(bucket, "sstate/");
      expect(before).toHaveLength(content.length);
      const work = await workDir();
      const target = `s3://${bucket}/sstate`;

      const proxy = await startFaultProxy({ upstream: s3.endpoint, rate, seed: faultSeed, kinds: NETWORK_FAULTS });
      let apply;
      try {
        const env = s3Env(proxy.url);
        const plan = await cli(["plan", "--policy", "policy.yaml", "--target", target, "--out", "plan.json", "--timeout", "3s"], env, work);
        const planCounts = { ...proxy.counts };
        expect(plan.stderr).toBe("");
        expect(plan.code).toBe(0);
        expect(parsePlan(readFileSync(join(work, "plan.json"), "utf8"), "plan.json").delete.map((f) => f.path)).toEqual(planned);

        apply = await cli(["apply", "plan.json", "--timeout", "3s", "--batch-size", "100", "--log", "log.jsonl"], env, work);
        console.log(
          `[faults-s3] ${rate * 100}% faults: plan ${describeCounts(planCounts)}; plan + apply ${describeCounts(proxy.counts)}; apply exit ${apply.code} in ${(apply.ms / 1000).toFixed(1)} s`,
        );
      } finally {
        await proxy.stop();
      }
      expect(apply.stderr).not.toMatch(/internal error/);
      expect([0, 1, 5]).toContain(apply.code);

      const after = new Set(await keysUnder(bucket, "sstate/"));
      const plannedSet = new Set(planned);
      expect(before.filter((key) => !plannedSet.has(key) && !after.has(key))).toEqual([]);
      const results = [...journaled(join(work, "plan.json.journal")), ...journaled(join(work, "log.jsonl"))];
      const reportedGone = results.filter((r) => r.outcome === "deleted" || r.outcome === "missing").map((r) => r.path);
      expect(reportedGone.length).toBeGreaterThan(0);
      expect(reportedGone.filter((path) => after.has(path))).toEqual([]);
      // Nothing changed since planning: a fault must never make a file look changed.
      expect(results.filter((r) => r.outcome === "skipped")).toEqual([]);
      if (apply.code === 0) expect(results.filter((r) => r.outcome === "failed")).toEqual([]);
      if (apply.code === 5) expect(results.some((r) => r.outcome === "failed")).toBe(true);

      const rerun = await cli(["apply", "plan.json"], s3Env(s3.endpoint), work);
      expect(rerun.stderr).toBe("");
      expect(rerun.code).toBe(0);
      expect(await keysUnder(bucket, "sstate/")).toEqual(before.filter((key) => !plannedSet.has(key)));
    },
    300_000,
  );
});

describe("S3 secrets stay out of every message", () => {
  const token = "the-session-token-value-1234567890";

  it("a server reflecting request headers (session token, Authorization) in its error: plan and apply print only the code", async () => {
    const { work, bucket } = await smallPlan();
    // The radosgw user has no session: the token only travels, as it would to AWS.
    const env = (url: string) => s3Env(url, { AWS_SESSION_TOKEN: token });
    for (
      const { argv, method, code } of [
        { argv: ["plan", "--policy", "policy.yaml", "--target", `s3://${bucket}/sstate`], method: "GET", code: 1 },
        { argv: ["apply", "plan.json", "--log", "log.jsonl"], method: "POST", code: 5 },
      ]
    ) {
      const proxy = await startFaultProxy({ upstream: s3.endpoint, rate: 1, seed: 2, kinds: ["echo-headers"], applies: (m) => m === method });
      try {
        const result = await cli(argv, env(proxy.url), work);
        expect(proxy.counts["echo-headers"]).toBeGreaterThan(0);
        expect(result.code).toBe(code);
        const written = code === 5 ? readFileSync(join(work, "log.jsonl"), "utf8") + readFileSync(join(work, "plan.json.journal"), "utf8") : "";
        const everything = result.stdout + result.stderr + written;
        expect(everything).toContain("InvalidArgument, HTTP 400");
        for (const leak of [token, s3.secretAccessKey, "headers were", "Signature=", "AWS4-HMAC-SHA256", "x-amz-security-token"]) expect(everything).not.toContain(leak);
      } finally {
        await proxy.stop();
      }
    }
  });

  it("a wrong secret key: plan and apply stop at once with one line and no secret", async () => {
    const { work } = await smallPlan();
    const wrong = "wrong-secret-key-0123456789";
    for (const argv of [["plan", "--policy", "policy.yaml", "--target", "s3://any-bucket/x"], ["apply", "plan.json"]]) {
      const result = await cli(argv, s3Env(s3.endpoint, { AWS_SECRET_ACCESS_KEY: wrong }), work);
      expect(result.code).toBe(1);
      expect(oneLine(result.stderr)).toMatch(/^S3 refused the credentials for HeadBucket s3:\/\/\S+ at S3 endpoint http:\/\/127\.0\.0\.1:\d+ \(HTTP 403\): check /);
      expect(result.stdout + result.stderr).not.toContain(wrong);
      expect(result.ms).toBeLessThan(5_000);
    }
  });

  it("an endpoint URL with user:password@ is refused without printing the password", async () => {
    const work = await workDir();
    const result = await cli(["info", "s3://any-bucket"], s3Env(s3.endpoint.replace("http://", "http://someone:endpoint-pass-word@")), work);
    expect(result.code).toBe(1);
    expect(oneLine(result.stderr)).toMatch(/^AWS_ENDPOINT_URL_S3 holds credentials \(http:\/\/\*\*\*@127\.0\.0\.1:\d+\)/);
    expect(result.stdout + result.stderr).not.toContain("endpoint-pass-word");
  });
});

describe("S3 requests name the tool", () => {
  // Access logs tell the tool's own requests from builds' uses by this (README "Retention by use").
  it("every request of plan and apply carries sstate-keeper/VERSION in its User-Agent", async () => {
    const { work, bucket } = await smallPlan();
    const agents: string[] = [];
    const proxy = await startFaultProxy({ upstream: s3.endpoint, rate: 0, seed: 3, onAnswer: ({ headers }) => void agents.push(String(headers["user-agent"])) });
    try {
      expect((await cli(["plan", "--policy", "policy.yaml", "--target", `s3://${bucket}/sstate`, "--out", "plan.json"], s3Env(proxy.url), work)).code).toBe(0);
      expect((await cli(["apply", "plan.json"], s3Env(proxy.url), work)).code).toBe(0);
    } finally {
      await proxy.stop();
    }
    expect(agents.length).toBeGreaterThan(2);
    expect(agents.filter((agent) => !agent.includes(`${TOOL.name}/${TOOL.version}`))).toEqual([]);
  });
});

describe("an S3 key with a control character", () => {
  it("is planned and deleted (by itself), and its whole batch with it", async () => {
    const bucket = await freshBucket();
    const odd = sstatePath({ pn: "zlib\x01odd", arch: "core2-64", task: "populate_sysroot", seed: "odd" });
    const files = [odd, ...Array.from({ length: 30 }, (_, i) => sstatePath({ pn: "zlib", arch: "core2-64", task: "package", seed: `plain-${i}` }))];
    await seed(bucket, "sstate", [...files.map((path) => ({ path, old: true })), { path: FRESH, old: false }]);
    const work = await workDir();
    const env = s3Env(s3.endpoint);
    expect((await cli(["plan", "--policy", "policy.yaml", "--target", `s3://${bucket}/sstate`, "--out", "plan.json"], env, work)).code).toBe(0);
    expect(parsePlan(readFileSync(join(work, "plan.json"), "utf8"), "plan.json").delete.map((f) => f.path)).toContain(odd);
    const applied = await cli(["apply", "plan.json"], env, work);
    expect(applied.stderr).toBe("");
    expect(applied.code).toBe(0);
    expect(applied.stdout).toMatch(/deleted\s+31 files/);
    expect(await keysUnder(bucket, "sstate/")).toEqual([FRESH]);
  });
});

function describeCounts(counts: FaultProxy["counts"]): string {
  const injected = NETWORK_FAULTS.map((kind) => `${kind} ${counts[kind]}`).join(", ");
  return `${counts.requests} requests (${injected})`;
}
