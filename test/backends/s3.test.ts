import { tmpdir } from "node:os";
import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { BackendError, type RemoteFile } from "../../src/backends/backend.ts";
import { type Env, parseTarget } from "../../src/backends/index.ts";
import type { S3Backend } from "../../src/backends/s3.ts";
import { s3ClientConfig } from "../../src/backends/s3-config.ts";
import { decodeListedKey } from "../../src/backends/s3-keys.ts";
import { mapConcurrent } from "../../src/util/concurrency.ts";
import type {} from "../support/global-servers.ts";
import { Redactor } from "../../src/util/secrets.ts";
import { NETWORK_FAULTS, startFaultProxy } from "../support/fault-proxy.ts";
import { spawnCli } from "../support/apply-fixture.ts";
import { openOptions } from "../support/io.ts";
import { backendConformance } from "./conformance.ts";

const s3 = inject("s3");
const DAY_MS = 24 * 60 * 60 * 1000;

function envFor(overrides: Env = {}): Env {
  return {
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    AWS_REGION: s3.region,
    ...overrides,
  };
}

async function open(url: string, env: Env = envFor()): Promise<S3Backend> {
  return (await parseTarget(url, "/").open(env, openOptions())) as S3Backend;
}

let admin: S3Client | undefined;
/** A client that bypasses the backend, for setting up buckets and checking what is really there. */
function adminClient(): S3Client {
  admin ??= new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
  return admin;
}

let buckets = 0;
async function freshBucket(): Promise<string> {
  const bucket = `keeper-${process.pid}-${Date.now().toString(36)}-${buckets++}`;
  await adminClient().send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

async function keysUnder(bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await adminClient().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    keys.push(...(page.Contents ?? []).map((object) => object.Key!));
    token = page.NextContinuationToken;
  } while (token !== undefined);
  return keys;
}

/**
 * The reference listing: the files under `root` as sstate-keeper listed them until it listed in
 * key ranges, fanned out by directory: Delimiter "/" at the root and in its nativelsb directories
 * (any but the two-hex-digit hash directories), each directory below them listed whole.
 */
async function fannedOut(bucket: string, root: string): Promise<RemoteFile[]> {
  const files: RemoteFile[] = [];
  const list = async (prefix: string, delimiter: "/" | undefined): Promise<string[]> => {
    const below: string[] = [];
    let token: string | undefined;
    do {
      const page = await adminClient().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, Delimiter: delimiter, ContinuationToken: token, EncodingType: "url" }));
      for (const object of page.Contents ?? []) {
        const file: RemoteFile = { path: decodeListedKey(object.Key!).slice(root.length), size: object.Size!, mtimeMs: Math.floor(object.LastModified!.getTime() / 1000) * 1000 };
        if (object.ETag !== undefined) file.etag = object.ETag;
        files.push(file);
      }
      below.push(...(page.CommonPrefixes ?? []).map((common) => decodeListedKey(common.Prefix!)));
      token = page.NextContinuationToken;
    } while (token !== undefined);
    return below;
  };
  const directories = await list(root, "/");
  const nativelsb = directories.filter((dir) => !/^[0-9a-f]{2}\/$/.test(dir.slice(root.length)));
  const whole = [...directories.filter((dir) => !nativelsb.includes(dir)), ...(await mapConcurrent(nativelsb, 4, (dir) => list(dir, "/"))).flat()];
  await mapConcurrent(whole, 16, (dir) => list(dir, undefined));
  return files;
}

const byPath = (a: RemoteFile, b: RemoteFile) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

async function listAll(backend: S3Backend): Promise<RemoteFile[]> {
  const files: RemoteFile[] = [];
  for await (const batch of backend.list()) files.push(...batch);
  return files;
}

function sstatePath(i: number, nativelsb: string): string {
  const hash = (Math.imul(i + 1, 2654435761) >>> 0).toString(16).padStart(8, "0").repeat(8);
  return `${nativelsb}${hash.slice(0, 2)}/${hash.slice(2, 4)}/sstate:zlib-native:x86_64-linux:1.3.1:r0:x86_64:14:${hash}_populate_sysroot.tar.zst`;
}

afterAll(() => admin?.destroy());

describe("S3 backend errors", () => {
  it("explains a missing bucket", async () => {
    const error = await open("s3://no-such-bucket/cache").catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "BackendError", kind: "config", message: `bucket 'no-such-bucket' does not exist at S3 endpoint ${s3.endpoint}: check the target URL` });
  });

  it("the CLI process prints the one-line error and not the SDK's Node-version warning", async () => {
    const result = await spawnCli(tmpdir(), ["info", "s3://no-such-bucket/cache"], { env: envFor() as Record<string, string> });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`bucket 'no-such-bucket' does not exist at S3 endpoint ${s3.endpoint}: check the target URL\n`);
  });

  const wrongSecret = "not-the-secret-at-all";
  it.each([
    {
      title: "a wrong secret key fails at once as refused credentials, without the secret",
      env: { AWS_SECRET_ACCESS_KEY: wrongSecret },
      kind: "auth",
      message:
        /^S3 refused the credentials for HeadBucket s3:\/\/keeper-[\w-]+ at S3 endpoint http:\/\/127\.0\.0\.1:\d+ \(HTTP 403\): check AWS_ACCESS_KEY_ID\/AWS_SECRET_ACCESS_KEY\/AWS_PROFILE and the bucket policy$/,
      withinMs: 2_000,
    },
    {
      title: "an unknown access key fails at once as refused credentials",
      env: { AWS_ACCESS_KEY_ID: "nobody-has-this-key" },
      kind: "auth",
      message: /^S3 refused the credentials for HeadBucket /,
      withinMs: 2_000,
    },
    {
      title: "an unreachable endpoint is named at once",
      env: { AWS_ENDPOINT_URL_S3: "http://127.0.0.1:1" },
      kind: "unavailable",
      message: /^cannot reach S3 endpoint http:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\) for HeadBucket s3:\/\/keeper-[\w-]+: check AWS_ENDPOINT_URL_S3 \/ AWS_ENDPOINT_URL and the network$/,
      withinMs: 2_000,
    },
    {
      title: "TLS to a plain HTTP endpoint is a configuration problem",
      env: { AWS_ENDPOINT_URL_S3: s3.endpoint.replace("http:", "https:") },
      kind: "config",
      message: /^TLS connection to S3 endpoint https:\/\/127\.0\.0\.1:\d+ failed \(EPROTO\) for HeadBucket s3:\/\/keeper-[\w-]+: check the endpoint's http\/https scheme/,
      withinMs: 2_000,
    },
    {
      title: "an endpoint URL with user:password@ is refused without the password",
      env: { AWS_ENDPOINT_URL_S3: s3.endpoint.replace("http://", "http://someone:endpoint-password@") },
      kind: "config",
      message: /^AWS_ENDPOINT_URL_S3 holds credentials \(http:\/\/\*\*\*@127\.0\.0\.1:\d+\): an S3 endpoint takes none; remove 'user:password@'/,
      withinMs: 100,
    },
  ])("$title", async ({ env, kind, message, withinMs }) => {
    const bucket = await freshBucket();
    const started = Date.now();
    const error = await open(`s3://${bucket}`, envFor(env)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendError);
    expect(error).toMatchObject({ kind, message: expect.stringMatching(message) });
    expect((error as Error).message).not.toMatch(/not-the-secret|endpoint-password/);
    expect(Date.now() - started).toBeLessThan(withinMs);
  });

  it("registers the secret key and session token it uses as secrets", async () => {
    const secrets = new Redactor();
    await (await parseTarget(`s3://${await freshBucket()}`, "/").open(envFor({ AWS_SESSION_TOKEN: "session-token-value" }), openOptions({ secrets }))).close();
    expect(secrets.redact(`key ${s3.secretAccessKey}, token session-token-value`)).toBe("key ***, token ***");
  });
});

describe("S3 target URLs", () => {
  it("records the bucket and prefix without options", () => {
    expect(parseTarget("s3://bucket/some/prefix/?path-style=true", "/").url).toBe("s3://bucket/some/prefix");
    expect(parseTarget("s3://bucket", "/").url).toBe("s3://bucket");
  });

  it("rejects unknown options, ports, credentials and a missing bucket", () => {
    expect(() => parseTarget("s3://bucket/p?region=eu-west-1", "/")).toThrow("unknown S3 target option 'region=eu-west-1'; the only one is ?path-style=true|false");
    expect(() => parseTarget("s3://bucket:9000/p", "/")).toThrow(/AWS_ENDPOINT_URL_S3/);
    expect(() => parseTarget("s3:///p", "/")).toThrow(/s3:\/\/BUCKET\[\/PREFIX\]/);
    expect(() => parseTarget("s3://user:password@bucket/p", "/")).toThrow("a target URL must not contain credentials (s3://***@bucket/p)");
  });

  it("resolves endpoint, region, addressing and credentials from the given environment", () => {
    const custom = { AWS_ENDPOINT_URL: "http://ceph:7480", AWS_ACCESS_KEY_ID: "id", AWS_SECRET_ACCESS_KEY: "secret" };
    expect(s3ClientConfig(custom, undefined, openOptions()).config).toMatchObject({
      endpoint: "http://ceph:7480",
      region: "us-east-1",
      forcePathStyle: true,
      credentials: { accessKeyId: "id", secretAccessKey: "secret" },
    });
    expect(s3ClientConfig({ ...custom, AWS_ENDPOINT_URL_S3: "https://s3.example" }, undefined, openOptions()).config.endpoint).toBe("https://s3.example");
    expect(s3ClientConfig({ ...custom, SSTATE_KEEPER_S3_PATH_STYLE: "0" }, undefined, openOptions()).config.forcePathStyle).toBe(false);
    expect(s3ClientConfig({ ...custom, SSTATE_KEEPER_S3_PATH_STYLE: "0" }, true, openOptions()).config.forcePathStyle).toBe(true);
    expect(s3ClientConfig(custom, false, openOptions()).config.forcePathStyle).toBe(false);

    const aws = s3ClientConfig({ AWS_DEFAULT_REGION: "eu-west-1", AWS_PROFILE: "ci" }, undefined, openOptions());
    expect(aws.config).toMatchObject({ region: "eu-west-1", forcePathStyle: false, profile: "ci" });
    expect(aws.config.credentials).toBeUndefined();
    expect(aws.endpoint).toBe("the AWS S3 endpoint of eu-west-1");
    expect(s3ClientConfig({ AWS_REGION: "eu-central-1", AWS_DEFAULT_REGION: "eu-west-1", SSTATE_KEEPER_S3_PATH_STYLE: "1" }, undefined, openOptions()).config).toMatchObject({
      region: "eu-central-1",
      forcePathStyle: true,
    });
  });
});

backendConformance("s3 (radosgw)", async () => {
  const bucket = await freshBucket();
  // Outside the cache root: the backend must neither list nor touch it.
  await adminClient().send(new PutObjectCommand({ Bucket: bucket, Key: "other-tool/data", Body: "not ours" }));
  const backend = await open(`s3://${bucket}/sstate-cache`);
  return {
    backend,
    // S3 has no directories; the ones a cache "has" are the parents of its keys.
    directories: async () => {
      const dirs = new Set<string>();
      for (const key of await keysUnder(bucket, "sstate-cache/")) {
        const parts = key.slice("sstate-cache/".length).split("/").slice(0, -1);
        parts.forEach((_, i) => dirs.add(parts.slice(0, i + 1).join("/")));
      }
      return [...dirs];
    },
  };
});

describe("S3 backend on radosgw", () => {
  // 5,800 objects: 5,190 under the root's hash directories, 305 under each of two nativelsb
  // directories, and keys that need URL encoding; beside them, keys outside the target's prefix.
  const spread = Array.from({ length: 5800 }, (_, i) => sstatePath(i, i % 19 === 0 ? "universal/" : i % 19 === 1 ? "ubuntu-22.04/" : ""));
  const encoded = [
    `5d/83/sstate:lib x%41+y:core2-64-poky-linux:1.0+git:r0:core2-64:14:${"5d83".padEnd(64, "0")}_package.tar.zst`,
    `5d/83/sstate:ünïcødé-😀:core2-64-poky-linux:1.0:r0:core2-64:14:${"5d83".padEnd(64, "1")}_fetch.tar.zst.siginfo`,
    `universal/a0/01/sstate:ctl\x01key:x86_64-linux:1.0:r0:x86_64:14:${"a001".padEnd(64, "2")}_fetch.tar.zst`,
    "README",
    "universal/README",
  ];
  const cachePaths = [...spread, ...encoded];
  const outside = ["cache-old/00/00/sstate:a::1:r0::14:00_fetch.tar.zst", "cache0/README", "other-tool/data"];
  let spreadBucket: string;
  beforeAll(async () => {
    spreadBucket = await freshBucket();
    const writer = await open(`s3://${spreadBucket}/cache`);
    await mapConcurrent(cachePaths, 32, (path, i) => writer.put(path, new Uint8Array(i % 5)));
    await writer.close();
    await mapConcurrent(outside, 8, (key) => adminClient().send(new PutObjectCommand({ Bucket: spreadBucket, Key: key, Body: "not ours" })));
  }, 180_000);

  it.each([
    { target: "cache", root: "cache/" },
    { target: "cache/universal", root: "cache/universal/" },
  ])("lists s3://…/$target exactly as a listing fanned out by directory does", async ({ target, root }) => {
    const backend = await open(`s3://${spreadBucket}/${target}`);
    const listed = await listAll(backend);
    await backend.close();
    const reference = await fannedOut(spreadBucket, root);
    expect(reference.length).toBe(cachePaths.filter((path) => `cache/${path}`.startsWith(root)).length);
    expect(listed.sort(byPath)).toEqual(reference.sort(byPath));
    expect(listed.every((f) => f.etag?.startsWith('"'))).toBe(true);
  });

  it("lists 5,800 objects in at most one request more per stream than pages, in parallel only where the rest holds several pages, and deletes them in ⌈N/1000⌉", async () => {
    const backend = await open(`s3://${spreadBucket}/cache`);
    const started = performance.now();
    const listed = await listAll(backend);
    const listMs = performance.now() - started;
    expect(listed.map((f) => f.path).sort()).toEqual([...cachePaths].sort());
    const sizes = new Map(listed.map((f) => [f.path, f.size]));
    cachePaths.forEach((path, i) => expect(sizes.get(path)).toBe(i % 5));
    const listRequests = backend.requestCounts()["ListObjectsV2"] ?? 0;
    const pages = Math.ceil(cachePaths.length / 1000);
    // The first page (a fifth of the root's hash space) leaves about four pages there: split in two.
    const streams = backend.peakRequestsInFlight();
    expect(streams).toBe(2);
    expect(listRequests).toBeGreaterThanOrEqual(pages);
    expect(listRequests).toBeLessThanOrEqual(pages + streams);

    // A consumer that stops early leaves no listing behind that could fail or block.
    for await (const batch of backend.list()) {
      expect(batch.length).toBeGreaterThan(0);
      break;
    }

    const before = backend.requestCounts()["DeleteObjects"] ?? 0;
    const outcomes = await backend.deleteMany(listed);
    expect((backend.requestCounts()["DeleteObjects"] ?? 0) - before).toBe(pages);
    expect(outcomes.map((o) => [o.path, o.status])).toEqual(listed.map((f) => [f.path, "deleted"]));
    expect(await keysUnder(spreadBucket, "cache/")).toEqual([]);
    expect((await keysUnder(spreadBucket, "")).sort()).toEqual([...outside].sort());
    await backend.close();
    console.log(`[s3] ${cachePaths.length} objects: listed with ${listRequests} ListObjectsV2 (${streams} streams) in ${listMs.toFixed(0)} ms`);
  });

  it.each([
    { title: "one object", paths: [sstatePath(1, "")] },
    { title: "1000 objects", paths: Array.from({ length: 1000 }, (_, i) => sstatePath(i, i % 2 === 0 ? "universal/" : "")) },
  ])("lists a bucket of $title with one request", async ({ paths }) => {
    const bucket = await freshBucket();
    const writer = await open(`s3://${bucket}`);
    await mapConcurrent(paths, 32, (path) => writer.put(path, new Uint8Array(1)));
    await writer.close();
    const backend = await open(`s3://${bucket}`);
    expect((await listAll(backend)).map((f) => f.path).sort()).toEqual([...paths].sort());
    expect(backend.requestCounts()).toEqual({ HeadBucket: 1, ListObjectsV2: 1 });
    await backend.close();
  });

  it("paginates within one hash directory holding more than two pages of keys, in one stream", async () => {
    const bucket = await freshBucket();
    const paths = Array.from({ length: 2100 }, (_, i) => `ab/cd/sstate:zlib::1.3.1:r0::14:${i.toString(16).padStart(64, "0")}_fetch.tar.zst.siginfo`);
    const writer = await open(`s3://${bucket}`);
    await mapConcurrent(paths, 32, (path) => writer.put(path, new Uint8Array(3)));
    await writer.close();
    const backend = await open(`s3://${bucket}`);
    const listed = await listAll(backend);
    expect(listed.map((f) => f.path).sort()).toEqual([...paths].sort());
    // Keys in one directory say nothing about the rest of the key space: no split, three pages.
    expect(backend.requestCounts()["ListObjectsV2"]).toBe(3);
    expect(backend.peakRequestsInFlight()).toBe(1);
    await backend.close();
  });

  it("stats a sorted batch with a few listings, HEADs only what a sparse batch's listing did not reach, and agrees with stat", async () => {
    const bucket = await freshBucket();
    const present = Array.from({ length: 1500 }, (_, i) => sstatePath(i, "")).sort();
    const writer = await open(`s3://${bucket}/cache`);
    await mapConcurrent(present, 32, (path, i) => writer.put(path, new Uint8Array(i % 7)));
    await writer.close();
    const missing = [sstatePath(5000, ""), sstatePath(5001, "")];
    const statOneByOne = async (backend: S3Backend, paths: readonly string[]) => Promise.all(paths.map((path) => backend.stat(path)));

    // Dense: 200 consecutive objects (and two absent keys among them) take one page.
    const dense = [...present.slice(600, 800), ...missing].sort();
    let backend = await open(`s3://${bucket}/cache`);
    const denseStates = await backend.statMany!(dense);
    expect(backend.requestCounts()["ListObjectsV2"]).toBe(1);
    expect(backend.requestCounts()["HeadObject"] ?? 0).toBe(0);
    expect(denseStates).toEqual(await statOneByOne(backend, dense));
    expect(denseStates.filter((state) => state === undefined)).toHaveLength(2);
    await backend.close();

    // Sparse: 3 paths spread over 1500 objects get one page (3 / 50, rounded up), then HEADs.
    const sparse = [present[10]!, present[1200]!, present[1499]!];
    backend = await open(`s3://${bucket}/cache`);
    const sparseStates = await backend.statMany!(sparse);
    expect(backend.requestCounts()["ListObjectsV2"]).toBe(1);
    expect(backend.requestCounts()["HeadObject"]).toBe(2);
    expect(sparseStates).toEqual(await statOneByOne(backend, sparse));
    expect(sparseStates.every((state) => state !== undefined)).toBe(true);
    await backend.close();
  });

  it("lists and stats objects written through the faked-clock gateway as 400 days old", async () => {
    const bucket = await freshBucket();
    const old = sstatePath(1, "");
    const fresh = sstatePath(2, "");
    const faked = await open(`s3://${bucket}/cache`, envFor({ AWS_ENDPOINT_URL_S3: s3.fakedEndpoint }));
    await faked.put(old, new TextEncoder().encode("old archive"));
    await faked.close();
    const backend = await open(`s3://${bucket}/cache`);
    await backend.put(fresh, new TextEncoder().encode("new"));

    const listed = new Map((await listAll(backend)).map((f) => [f.path, f]));
    expect(backend.requestCounts()["ListObjectsV2"]).toBe(1);
    const ageDays = (Date.now() - listed.get(old)!.mtimeMs) / DAY_MS;
    expect(ageDays).toBeGreaterThan(399);
    expect(ageDays).toBeLessThan(401);
    expect(Math.abs(Date.now() - listed.get(fresh)!.mtimeMs)).toBeLessThan(120_000);
    // Listing and HeadObject agree, so an untouched file passes apply's size/mtime/etag check.
    expect(await backend.stat(old)).toEqual(listed.get(old));
    expect(await backend.stat(fresh)).toEqual(listed.get(fresh));
    await backend.close();
  });
});

describe("S3 keys that XML cannot carry, on radosgw", () => {
  const hash = "5d8327406d0c9bd8928d96ea141f606e3372ed55f6c8b9d0e969443de97039aa";
  const odd = [
    `5d/83/sstate:zlib\x01x:core2-64-poky-linux:1.3.1:r0:core2-64:14:${hash}_populate_sysroot.tar.zst`,
    `5d/83/sstate:lib x%41+y:core2-64-poky-linux:1.0+git:r0:core2-64:14:${hash}_package.tar.zst`,
    `5d/83/sstate:ünïcødé-😀:core2-64-poky-linux:1.0:r0:core2-64:14:${hash}_fetch.tar.zst.siginfo`,
    `5d/83/sstate:tab\there:core2-64-poky-linux:1.0:r0:core2-64:14:${hash}_fetch.tar.zst`,
  ];
  const plain = Array.from({ length: 40 }, (_, i) => sstatePath(i, i % 2 === 0 ? "" : "universal/"));

  it("lists, stats and deletes them with the plain keys of their batch", async () => {
    const bucket = await freshBucket();
    const backend = await open(`s3://${bucket}/cache`);
    const paths = [...plain, ...odd];
    await mapConcurrent(paths, 16, (path, i) => backend.put(path, new Uint8Array(i % 3)));
    const listed = await listAll(backend);
    expect(listed.map((f) => f.path).sort()).toEqual([...paths].sort());
    expect(await backend.statMany!(paths)).toEqual(await Promise.all(paths.map((path) => backend.stat(path))));

    const before = backend.requestCounts();
    const outcomes = await backend.deleteMany(listed);
    expect(outcomes.map((o) => [o.path, o.status])).toEqual(listed.map((f) => [f.path, "deleted"]));
    expect(await keysUnder(bucket, "cache/")).toEqual([]);
    const after = backend.requestCounts();
    // The keys XML can carry go in one DeleteObjects; the \x01 and tab keys go one DeleteObject each.
    expect((after["DeleteObjects"] ?? 0) - (before["DeleteObjects"] ?? 0)).toBe(1);
    expect((after["DeleteObject"] ?? 0) - (before["DeleteObject"] ?? 0)).toBe(2);
    await backend.close();
  });

  it("(radosgw 16 fact) ignores the ETag condition of DeleteObjects and DeleteObject: the listing check before each batch is what protects a rewritten object there", async () => {
    const bucket = await freshBucket();
    const { DeleteObjectsCommand, DeleteObjectCommand } = await import("@aws-sdk/client-s3");
    await adminClient().send(new PutObjectCommand({ Bucket: bucket, Key: "a", Body: "x" }));
    await adminClient().send(new PutObjectCommand({ Bucket: bucket, Key: "b", Body: "x" }));
    const answer = await adminClient().send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: "a", ETag: '"00000000000000000000000000000000"' }] } }));
    expect(answer.Errors ?? []).toEqual([]);
    await adminClient().send(new DeleteObjectCommand({ Bucket: bucket, Key: "b", IfMatch: '"00000000000000000000000000000000"' }));
    expect(await keysUnder(bucket, "")).toEqual([]);
  });
});

describe("S3 backend through a faulty network", () => {
  const quick = { connectMs: 1_000, idleMs: 1_000, operationMs: 30_000 };
  const listedPaths = Array.from({ length: 1_100 }, (_, i) => sstatePath(i, i % 3 === 0 ? "universal/" : "")).sort();
  let bucket: string;
  let truth: RemoteFile[];
  beforeAll(async () => {
    bucket = await freshBucket();
    const writer = await open(`s3://${bucket}/cache`);
    await mapConcurrent(listedPaths, 32, (path, i) => writer.put(path, new Uint8Array(i % 4)));
    truth = (await listAll(writer)).sort(byPath);
    await writer.close();
  });

  it.concurrent.each(NETWORK_FAULTS.map((kind) => ({ kind })))("lists, stats and deletes exactly, with 30% $kind faults", async ({ kind }) => {
    const proxy = await startFaultProxy({ upstream: s3.endpoint, rate: 0.3, seed: 7, kinds: [kind] });
    const openThroughProxy = async (root: string) => (await parseTarget(`s3://${bucket}/${root}`, "/").open(envFor({ AWS_ENDPOINT_URL_S3: proxy.url }), openOptions({ timeouts: quick }))) as S3Backend;
    try {
      const backend = await openThroughProxy("cache");
      expect((await listAll(backend)).sort(byPath)).toEqual(truth);
      const batch = listedPaths.slice(100, 700);
      expect(await backend.statMany!(batch)).toEqual(batch.map((path) => truth.find((f) => f.path === path)));
      await backend.close();

      // Deletions in a root of their own: 150 planned of 200.
      const root = `delete-${kind}`;
      const doomed = await openThroughProxy(root);
      const paths = listedPaths.slice(0, 200);
      await mapConcurrent(paths, 16, (path) => adminClient().send(new PutObjectCommand({ Bucket: bucket, Key: `${root}/${path}`, Body: "x" })));
      const planned = (await doomed.statMany!(paths.slice(0, 150))).map((file) => file!);
      const outcomes = await doomed.deleteMany(planned);
      const remaining = new Set((await keysUnder(bucket, `${root}/`)).map((key) => key.slice(root.length + 1)));
      // Whatever a fault did, no outcome is "deleted" or "missing" for an object that is still there.
      for (const outcome of outcomes) if (outcome.status === "deleted" || outcome.status === "missing") expect(remaining.has(outcome.path)).toBe(false);
      expect(outcomes.filter((o) => o.status !== "deleted" && o.status !== "missing")).toEqual([]);
      expect([...remaining].sort()).toEqual(paths.slice(150));
      await doomed.close();
      console.log(`[s3 faults] ${kind}: ${proxy.counts[kind]} injected in ${proxy.counts.requests} requests`);
      expect(proxy.counts[kind]).toBeGreaterThan(0);
    } finally {
      await proxy.stop();
    }
  });
});
