// Retention by use, end to end: a real Apache serves a cache whose files are all 400 days old and
// writes its real access log while the test fetches some archives; S3 server access logs in AWS's
// format are read from a radosgw log bucket. `unused-for` keeps what was used, with its companions.
import { mkdir, mkdtemp, readFile, utimes, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type Env, parseTarget } from "../../src/backends/index.ts";
import { run } from "../../src/cli/main.ts";
import { parsePlan } from "../../src/plan/read-plan.ts";
import type {} from "../support/global-servers.ts";
import { openOptions, testIo } from "../support/io.ts";
import { sstatePath } from "../support/listing.ts";
import { startWebdav, type WebdavServer } from "../support/servers.ts";

const DAY = 86_400_000;
const OLD = new Date(Date.now() - 400 * DAY);

/** Six tasks' archives with their .siginfo; every other one also has a .sig. */
function cacheFiles(seed: string): { archives: string[]; files: string[] } {
  const archives = ["busybox", "zlib", "openssl", "glibc", "m4", "bash"].map((pn, i) => sstatePath({ pn, arch: "core2-64", task: i % 2 ? "package" : "populate_sysroot", seed: `${seed}-${pn}` }));
  const files = archives.flatMap((archive, i) => [archive, `${archive}.siginfo`, ...(i % 2 ? [] : [`${archive}.sig`])]);
  return { archives, files };
}

const companionsOf = (files: readonly string[], archives: readonly string[]) => files.filter((file) => archives.some((archive) => file.startsWith(archive)));

/** `expectedStderr`: the warnings the plan prints (none by default). */
async function plan(policy: string, target: string, env: Env = {}, expectedStderr: string | RegExp = "") {
  const work = await mkdtemp(join(tmpdir(), "sstate-keeper-uses-"));
  await mkdir(join(work, "logs"));
  await writeFile(join(work, "policy.yaml"), policy);
  return {
    work,
    run: async () => {
      const io = testIo({ cwd: work, env });
      const code = await run(["plan", "--policy", "policy.yaml", "--target", target, "--explain", "--out", "plan.json", "--format", "json"], io);
      if (typeof expectedStderr === "string") expect(io.stderrText).toBe(expectedStderr);
      else expect(io.stderrText).toMatch(expectedStderr);
      expect(code).toBe(0);
      const stored = parsePlan(await readFile(join(work, "plan.json"), "utf8"), "plan.json");
      return { deleted: stored.delete.map((file) => file.path).sort(), kept: new Map(stored.keep!.map((file) => [file.path, file])) };
    },
  };
}

/** `%t` of Apache and S3 logs, in UTC: `20/Nov/2026:14:03:07 +0000`. */
function logTime(time: Date): string {
  return `${String(time.getUTCDate()).padStart(2, "0")}/${time.toLocaleString("en-US", { month: "short", timeZone: "UTC" })}/${time.getUTCFullYear()}:${time.toISOString().slice(11, 19)} +0000`;
}

/** One real request to Apache, as a build's fetcher makes it. */
function fetchFromApache(url: string, method: "GET" | "HEAD", userAgent: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: { "User-Agent": userAgent }, agent: false, timeout: 10_000 }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("timeout", () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.on("error", reject);
    req.end();
  });
}

describe("Apache access logs", () => {
  let server: WebdavServer;
  const { archives, files } = cacheFiles("apache");
  const used = [archives[0]!, archives[1]!];

  beforeAll(async () => {
    server = await startWebdav({ accessLog: true });
    for (const file of files) {
      const path = join(server.dataDir, file);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, `content of ${file}`);
      await utimes(path, OLD, OLD);
    }
    const url = (path: string) => new URL(path, server.url).href;
    // bitbake's wget fetcher GETs the archive (':' as is); its mirror check HEADs it (here with ':' encoded).
    expect(await fetchFromApache(url(archives[0]!), "GET", "Wget/1.21.3")).toBe(200);
    expect(await fetchFromApache(url(archives[1]!.replaceAll(":", "%3A")), "HEAD", "Mozilla/5.0 (X11; Linux x86_64; rv:84.0) Gecko/20100101 Firefox/84.0")).toBe(200);
    // Not uses: the tool's own request, a file that is not there, and a request outside the cache.
    expect(await fetchFromApache(url(archives[2]!), "GET", "sstate-keeper/0.1.0")).toBe(200);
    expect(await fetchFromApache(url(`${archives[3]!}.missing`), "GET", "Wget/1.21.3")).toBe(404);
    expect(await fetchFromApache(new URL("/elsewhere/x", server.url).href, "GET", "Wget/1.21.3")).toBe(404);
  }, 120_000);
  afterAll(() => server?.stop());

  const expectUseKept = async (result: { deleted: string[]; kept: Map<string, { lastUseFrom?: string }> }) => {
    expect(result.deleted).toEqual(files.filter((file) => !companionsOf([file], used).length).sort());
    expect([...result.kept.keys()].sort()).toEqual(companionsOf(files, used).sort());
  };

  it("keeps the fetched archives and their companions, deletes the rest past the window", async () => {
    const lines = (await readFile(server.accessLog!, "utf8")).split("\n");
    // The server's start-up checks came first; then the test's requests, in order.
    const get = lines.findIndex((line) => line.includes(`"GET /dav/${archives[0]!} HTTP/1.1" 200`)) + 1;
    expect(lines[get]).toContain(`"HEAD /dav/${archives[1]!.replaceAll(":", "%3A")} HTTP/1.1" 200`);
    const { run: planned } = await plan(
      `version: 1
uses:
  - { access-log: ${JSON.stringify(server.accessLog)}, prefix: /dav/ }
rules:
  - { name: unused, delete: { unused-for: 30d } }
`,
      server.url,
      {},
      // The server has just started: its log is minutes old, and the plan says it does not cover the window.
      /^\S+: warning: access log '.*' begins .* before now, and unused-for looks back 30d: a file used only before the logs begin counts as unused \(keep the logs longer\)\n$/,
    );
    const result = await planned();
    await expectUseKept(result);
    expect(result.kept.get(`${archives[0]!}.siginfo`)?.lastUseFrom).toBe(`${server.accessLog}:${get}`);
    expect(result.kept.get(archives[1]!)?.lastUseFrom).toBe(`${server.accessLog}:${get + 1}`);
    // The plan's own listing is in the log under the tool's User-Agent, which is how later plans know it is no use.
    expect((await readFile(server.accessLog!, "utf8")).split("\n").filter((line) => line.includes('"PROPFIND /dav/')).every((line) => line.endsWith('"sstate-keeper/0.1.0"'))).toBe(true);
  });

  it("reads the same log rotated across two files, the older one gzipped", async () => {
    const lines = (await readFile(server.accessLog!, "utf8")).split("\n").filter(Boolean);
    const get = lines.findIndex((line) => line.includes(`"GET /dav/${archives[0]!} HTTP/1.1" 200`)) + 1;
    const { work, run: planned } = await plan(
      `version: 1
uses:
  - { access-log: "logs/access.log.*", prefix: /dav }
rules:
  - { name: unused, delete: { unused-for: 30d } }
`,
      server.url,
    );
    await writeFile(join(work, "logs", "access.log.3.gz"), gzipSync(`127.0.0.1 - - [${logTime(new Date(Date.now() - 60 * DAY))}] "GET /dav/ HTTP/1.1" 200 512 "-" "curl/8.5.0"\n`));
    await writeFile(join(work, "logs", "access.log.2.gz"), gzipSync(`${lines.slice(0, get).join("\n")}\n`));
    await writeFile(join(work, "logs", "access.log.1"), `${lines.slice(get).join("\n")}\n`);
    const result = await planned();
    await expectUseKept(result);
    expect(result.kept.get(archives[0]!)?.lastUseFrom).toBe(`logs/access.log.2.gz:${get}`);
    expect(result.kept.get(`${archives[1]!}.siginfo`)?.lastUseFrom).toBe("logs/access.log.1:1");
  });
});

describe("Apache access logs read over WebDAV", () => {
  it("reads a log at an http:// location through the WebDAV backend", async () => {
    const server = await startWebdav({ accessLog: true });
    try {
      const { archives, files } = cacheFiles("dav-log");
      for (const file of files) {
        const path = join(server.dataDir, "cache", file);
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, "x");
        await utimes(path, OLD, OLD);
      }
      expect(await fetchFromApache(new URL(`cache/${archives[5]!}`, server.url).href, "GET", "Wget/1.21.3")).toBe(200);
      // The log, published beside the cache (as a log shipper would), read back over HTTP.
      await mkdir(join(server.dataDir, "logs"));
      await writeFile(join(server.dataDir, "logs", "access.log"), await readFile(server.accessLog!));
      const { run: planned } = await plan(
        `version: 1
uses:
  - { access-log: "${server.url}logs/access.log", prefix: /dav/cache/ }
rules:
  - { name: unused, delete: { unused-for: 30d } }
`,
        `${server.url}cache/`,
        {},
        /^\S+: warning: access log '.*' begins .* before now, and unused-for looks back 30d/,
      );
      const result = await planned();
      expect([...result.kept.keys()].sort()).toEqual(companionsOf(files, [archives[5]!]).sort());
      expect(result.kept.get(archives[5]!)?.lastUseFrom).toMatch(new RegExp(`^${server.url}logs/access\\.log:\\d+$`));
    } finally {
      await server.stop();
    }
  }, 120_000);
});

describe("S3 server access logs on radosgw", () => {
  const s3 = inject("s3");
  const env: Env = { AWS_ENDPOINT_URL_S3: s3.endpoint, AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey, AWS_REGION: s3.region };
  const { archives, files } = cacheFiles("s3");
  const used = [archives[2]!, archives[4]!];

  it("keeps the objects the logs show read (URL-encoded keys, - fields), with their companions", async () => {
    const bucket = `uses-${Date.now().toString(36)}`;
    const logBucket = `${bucket}-logs`;
    const admin = new S3Client({ endpoint: s3.endpoint, region: s3.region, forcePathStyle: true, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
    try {
      await admin.send(new CreateBucketCommand({ Bucket: bucket }));
      await admin.send(new CreateBucketCommand({ Bucket: logBucket }));
      // Written through the gateway whose clock runs 400 days behind: every object is old.
      const past = await parseTarget(`s3://${bucket}/sstate`, "/").open({ ...env, AWS_ENDPOINT_URL_S3: s3.fakedEndpoint }, openOptions());
      for (const file of files) await past.put(file, new TextEncoder().encode(file));
      await past.close();

      const owner = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be";
      const stamp = logTime(new Date(Date.now() - DAY));
      const record = (operation: string, key: string, status: string, agent: string, target = bucket) =>
        `${owner} ${target} [${stamp}] 192.0.2.3 ${owner} 3E57427F3EXAMPLE ${operation} ${
          encodeURIComponent(key).replaceAll("%2F", "/")
        } "GET /${target}/${key} HTTP/1.1" ${status} - 113 113 7 6 "-" "${agent}" - s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234= SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader ${target}.s3.us-west-1.amazonaws.com TLSV1.2 - -`;
      const listing = `${owner} ${bucket} [${stamp}] 192.0.2.3 - 3E57427F3EXAMPLE REST.GET.BUCKET - "GET /${bucket}?list-type=2 HTTP/1.1" 200 - 2048 - 10 9 "-" "-" - - SigV4 - AuthHeader - - - -`;
      const logs = {
        // The logs reach back further than the window.
        "logs/2026-10-01-00-00-00-0A1B2C3D4E5F6A7B": [listing.replace(stamp, logTime(new Date(Date.now() - 45 * DAY)))],
        "logs/2026-11-20-10-15-22-5A3E6C2F1B0D9E8A": [
          listing,
          record("REST.GET.OBJECT", `sstate/${archives[2]!}`, "200", "aws-cli/2.15.0 Python/3.11.6"),
          record("REST.PUT.OBJECT", `sstate/${archives[3]!}`, "200", "aws-cli/2.15.0 Python/3.11.6"),
        ],
        "logs/2026-11-20-11-00-01-7F2D1A0C3B4E5D6F": [
          record("REST.HEAD.OBJECT", `sstate/${archives[4]!}`, "200", "Boto3/1.34.0"),
          record("REST.GET.OBJECT", `sstate/${archives[5]!}`, "404", "Boto3/1.34.0"),
          record("REST.GET.OBJECT", `sstate/${archives[0]!}`, "200", "aws-sdk-js/3.1169.0 ua/2.1 sstate-keeper/0.1.0"),
          record("REST.GET.OBJECT", `sstate/${archives[1]!}`, "200", "Boto3/1.34.0", "another-bucket"),
        ],
      };
      for (const [key, lines] of Object.entries(logs)) await admin.send(new PutObjectCommand({ Bucket: logBucket, Key: key, Body: `${lines.join("\n")}\n` }));

      const { run: planned } = await plan(
        `version: 1
uses:
  - { access-log: "s3://${logBucket}/logs/", format: s3, prefix: sstate, bucket: ${bucket} }
rules:
  - { name: unused, delete: { unused-for: 30d } }
`,
        `s3://${bucket}/sstate`,
        env,
      );
      const result = await planned();
      expect(result.deleted).toEqual(files.filter((file) => !companionsOf([file], used).length).sort());
      expect([...result.kept.keys()].sort()).toEqual(companionsOf(files, used).sort());
      expect(result.kept.get(`${archives[4]!}.siginfo`)?.lastUseFrom).toBe(`s3://${logBucket}/logs/2026-11-20-11-00-01-7F2D1A0C3B4E5D6F:1`);
    } finally {
      admin.destroy();
    }
  });
});
