// isar-sstate parity on the real servers: upload a generated cache, read it back with info,
// upload again (nothing to do), and analyze a newer local build against it.
import { mkdtemp, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { FsBackend } from "../../src/backends/fs.ts";
import { type Env, parseTarget } from "../../src/backends/index.ts";
import type { S3Backend } from "../../src/backends/s3.ts";
import type { WebdavBackend } from "../../src/backends/webdav.ts";
import { run } from "../../src/cli/main.ts";
import type { GeneratedFile } from "../../src/demo/generate.ts";
import { INFO_KINDS } from "../../src/info/report.ts";
import { collectListing } from "../../src/sstate/listing.ts";
import { parseSstatePath } from "../../src/sstate/name.ts";
import { selectUploads, uploadFiles } from "../../src/upload/upload.ts";
import { generatedCache } from "../support/cache.ts";
import type {} from "../support/global-servers.ts";
import { openOptions, testIo } from "../support/io.ts";
import { BASE_PAIR_EXPLAINED_LINES, FIXTURE_ARCH, H, INSTALL_LINES, placeFixturePairs, POPULATE_SYSROOT_LINES } from "../support/siginfo-fixtures.ts";

async function cli(env: Env, ...argv: string[]) {
  const io = testIo({ cwd: tmpdir(), env });
  const code = await run(argv, io);
  return { code, stdout: io.stdoutText, stderr: io.stderrText };
}

/** The local cache every scenario uploads: a generated one plus the older ("a") side of the siginfo fixtures. */
let local: { root: string; files: GeneratedFile[] };
/** The newer build: the "b" side of the fixtures only. */
let newer: string;

beforeAll(async () => {
  local = await generatedCache(1500, { smallFiles: true });
  newer = await mkdtemp(join(tmpdir(), "keeper-parity-newer-"));
  await placeFixturePairs(newer, local.root);
});

/** files, bytes and byKind of what upload must copy, from the generator's entries and the placed fixtures. */
async function expectedRemote(): Promise<{ files: number; bytes: number; byKind: Record<string, { files: number; bytes: number }> }> {
  const localFiles = [...(await collectListing(new FsBackend(local.root).list())).objects()];
  const generated = new Map(local.files.map((file) => [file.path, file.size]));
  const byKind = Object.fromEntries(INFO_KINDS.map((kind) => [kind, { files: 0, bytes: 0 }]));
  let files = 0;
  let bytes = 0;
  for (const { path } of localFiles) {
    const name = parseSstatePath(path);
    if (!name || name.kind === "temp") continue;
    const size = generated.get(path) ?? (await stat(join(local.root, path))).size;
    files++;
    bytes += size;
    byKind[name.kind]!.files++;
    byKind[name.kind]!.bytes += size;
  }
  return { files, bytes, byKind };
}

interface RemoteCache {
  target: string;
  env: Env;
}

function parityScenario(label: string, fresh: () => Promise<RemoteCache>) {
  describe(`upload, info and analyze on ${label}`, () => {
    it("uploads the whole cache once, reports it with info, and explains the newer build's misses", async () => {
      const { target, env } = await fresh();
      const expected = await expectedRemote();
      expect(expected.files).toBeGreaterThan(1400);
      expect(local.files.some((file) => parseSstatePath(file.path)?.kind === "temp") || local.files.some((file) => !parseSstatePath(file.path))).toBe(true);

      const first = await cli(env, "upload", local.root, target);
      expect(first.stderr).toBe("");
      expect(first.code).toBe(0);
      expect(first.stdout).toContain(`  uploaded          ${expected.files.toLocaleString("en-US")} files`);

      const info = await cli(env, "info", target, "--format", "json");
      expect(info.code).toBe(0);
      const report = JSON.parse(info.stdout);
      expect({ files: report.files, bytes: report.bytes, byKind: report.byKind }).toEqual(expected);
      // Both servers give ETags, so identical content is looked for.
      expect(report.identicalArchives).not.toBeNull();

      const second = await cli(env, "upload", local.root, target);
      expect(second.code).toBe(0);
      expect(second.stdout).toContain("  uploaded          0 files, 0 B");
      expect(second.stdout).toContain(`  skipped existing  ${expected.files.toLocaleString("en-US")} files`);

      const analyzed = await cli(env, "analyze", newer, target, "--task", "configure", "--task", "populate_sysroot");
      expect(analyzed.code).toBe(0);
      const indented = (lines: string[], by: number) => lines.map((line) => `${" ".repeat(by)}${line.slice(4)}`);
      expect(analyzed.stdout).toContain(
        [
          `hello:${FIXTURE_ARCH}:configure local ${H.unihashB} vs remote ${H.unihashA} (the only candidate)`,
          ...BASE_PAIR_EXPLAINED_LINES.map((line) => `  ${line}`),
          "",
          `zlib:${FIXTURE_ARCH}:populate_sysroot local ${H.sysrootB} vs remote ${H.sysrootA} (the only candidate)`,
          ...indented([...POPULATE_SYSROOT_LINES, ...INSTALL_LINES], 2),
          "",
          "2 compared, 0 without a remote candidate, 0 without a local siginfo, 0 unreadable",
        ].join("\n"),
      );
    });

    it("checks existence with one listing of the target, not a request per file, ≥ 8 uploads in flight", async () => {
      const { target, env } = await fresh();
      const backend = (await parseTarget(target, "/").open(env, openOptions())) as S3Backend | WebdavBackend;
      const source = new FsBackend(local.root);
      const selection = selectUploads(await collectListing(source.list()), await collectListing(backend.list()), () => true);
      const result = await uploadFiles(source, backend, selection.upload, { concurrency: 8 });
      expect(result.failed).toEqual([]);
      expect(result.uploaded.files).toBe(selection.upload.length);
      const counts = backend.requestCounts();
      expect(counts["HeadObject"] ?? 0).toBe(0);
      expect(counts["PROPFIND depth=0"] ?? 0).toBe(0);
      if ("peakRequestsInFlight" in backend) expect(backend.peakRequestsInFlight()).toBeGreaterThanOrEqual(8);
      await backend.close();
    });
  });
}

const s3 = inject("s3");
// The backend sets this before building its client; the admin client here is built first.
process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] ??= "true";
let admin: S3Client | undefined;
afterAll(() => admin?.destroy());
let buckets = 0;

parityScenario("S3 (radosgw)", async () => {
  admin ??= new S3Client({ endpoint: s3.endpoint, region: s3.region, forcePathStyle: true, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
  const bucket = `keeper-parity-${process.pid}-${Date.now().toString(36)}-${buckets++}`;
  await admin.send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    target: `s3://${bucket}/sstate`,
    env: { AWS_ENDPOINT_URL_S3: s3.endpoint, AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey, AWS_REGION: s3.region },
  };
});

const dav = inject("webdav");
let collections = 0;

parityScenario("WebDAV (Apache, Basic auth)", async () => {
  const env = { SSTATE_KEEPER_WEBDAV_USER: dav.user, SSTATE_KEEPER_WEBDAV_PASSWORD: dav.password };
  const target = `${dav.url}parity-${process.pid}-${Date.now().toString(36)}-${collections++}/`;
  // The cache's collection must exist, like an S3 bucket; upload creates everything below it.
  const created = await fetch(target, { method: "MKCOL", headers: { authorization: `Basic ${Buffer.from(`${dav.user}:${dav.password}`).toString("base64")}` } });
  expect(created.status).toBe(201);
  return { target, env };
});
