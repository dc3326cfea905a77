import { mkdir, mkdtemp, readdir, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { describe, expect, inject, it } from "vitest";
import { type Env, parseTarget } from "../../src/backends/index.ts";
import { run } from "../../src/cli/main.ts";
import { mapConcurrent } from "../../src/util/concurrency.ts";
import { type ManifestRemote, usedByBuildsScenario } from "../support/build-manifests.ts";
import type {} from "../support/global-servers.ts";
import { openOptions, testIo } from "../support/io.ts";

const s3 = inject("s3");
const dav = inject("webdav");
const s3Env = (endpoint = s3.endpoint): Env => ({ AWS_ENDPOINT_URL_S3: endpoint, AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey, AWS_REGION: s3.region });
const admin = new S3Client({ endpoint: s3.endpoint, region: s3.region, forcePathStyle: true, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });

async function publishWith(argv: string[], clock: Date, env: Env) {
  const io = testIo({ env, clock: () => clock });
  const code = await run(argv, io);
  return { code, stdout: io.stdoutText, stderr: io.stderrText };
}

async function keysUnder(bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await admin.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    keys.push(...(page.Contents ?? []).map((o) => o.Key!.slice(prefix.length)));
    token = page.NextContinuationToken;
  } while (token);
  return keys;
}

/** A radosgw bucket prefix; the faked-clock gateway stamps what it receives 400 days in the past (remote age is upload time). */
async function s3Cache(name: string): Promise<ManifestRemote> {
  const bucket = `keeper-manifests-${name}-${Date.now().toString(36)}`;
  await admin.send(new CreateBucketCommand({ Bucket: bucket }));
  const target = `s3://${bucket}/sstate`;
  return {
    target,
    env: s3Env(),
    async seed(paths) {
      const past = await parseTarget(target, "/").open(s3Env(s3.fakedEndpoint), openOptions());
      await mapConcurrent(paths, 16, (path) => past.put(path, new Uint8Array(3)));
      await past.close();
    },
    paths: () => keysUnder(bucket, "sstate/"),
    publish: (argv, clock, backdateObject) => publishWith(argv, clock, s3Env(backdateObject ? s3.fakedEndpoint : s3.endpoint)),
  };
}

/** A collection of the test Apache: its objects are files of its data directory, whose mtimes can be set directly. */
function webdavCache(): ManifestRemote {
  const name = `manifests-${Date.now().toString(36)}`;
  const root = join(dav.dataDir, name);
  const env: Env = { SSTATE_KEEPER_WEBDAV_USER: dav.user, SSTATE_KEEPER_WEBDAV_PASSWORD: dav.password };
  const files = async () => (await readdir(root, { withFileTypes: true, recursive: true })).filter((e) => e.isFile()).map((e) => relative(root, join(e.parentPath, e.name)));
  const past = new Date(Date.now() - 400 * 86_400_000);
  return {
    target: `${dav.url}${name}/`,
    env,
    async seed(paths) {
      for (const path of paths) {
        await mkdir(dirname(join(root, path)), { recursive: true });
        await writeFile(join(root, path), "x");
        await utimes(join(root, path), past, past);
      }
    },
    paths: files,
    async publish(argv, clock, backdateObject) {
      const before = new Set(await files());
      const result = await publishWith(argv, clock, env);
      if (backdateObject) { for (const path of (await files()).filter((p) => !before.has(p))) await utimes(join(root, path), past, past); }
      return result;
    },
  };
}

describe("build manifests on real servers", () => {
  it("radosgw: two recent builds' manifests in the bucket keep exactly the union of what they used", async () => {
    await usedByBuildsScenario(await s3Cache("in"));
  });

  it("radosgw as the manifests location (from:) of a local cache", async () => {
    const manifests = await s3Cache("from");
    const root = await mkdtemp(join(tmpdir(), "keeper-local-for-s3-manifests-"));
    const local: ManifestRemote = {
      ...manifests,
      target: root,
      async seed(paths) {
        const old = new Date(Date.now() - 30 * 86_400_000);
        for (const path of paths) {
          await mkdir(dirname(join(root, path)), { recursive: true });
          await writeFile(join(root, path), "x");
          await utimes(join(root, path), old, old);
        }
      },
      paths: async () => (await readdir(root, { withFileTypes: true, recursive: true })).filter((e) => e.isFile()).map((e) => relative(root, join(e.parentPath, e.name))),
    };
    await usedByBuildsScenario(local, { from: manifests.target });
    expect((await manifests.paths()).filter((key) => key.startsWith(".sstate-keeper/builds/"))).toHaveLength(3);
  });

  it("WebDAV (Apache): the same through PUT and MOVE", async () => {
    await usedByBuildsScenario(webdavCache());
  });
});
