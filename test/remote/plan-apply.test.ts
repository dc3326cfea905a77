import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { describe, expect, inject, it } from "vitest";
import { type Env, parseTarget } from "../../src/backends/index.ts";
import { run } from "../../src/cli/main.ts";
import { parsePlan } from "../../src/plan/read-plan.ts";
import { mapConcurrent } from "../../src/util/concurrency.ts";
import type {} from "../support/global-servers.ts";
import { openOptions, testIo } from "../support/io.ts";
import { sstatePath } from "../support/listing.ts";
import type { WebdavServerInfo } from "../support/servers.ts";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const DAY = 86_400_000;
const OLD_AGE = 400 * DAY;
const PNS = ["busybox", "zlib", "openssl", "keep-me", "glibc"];

interface SeedFile {
  path: string;
  size: number;
  old: boolean;
}

/** ~2,600 objects: archive + siginfo (+ .sig for every fifth build), half of the builds 400 days old. */
function cacheContent(builds = 1150): SeedFile[] {
  const files: SeedFile[] = [];
  for (let i = 0; i < builds; i++) {
    const archive = sstatePath({ pn: PNS[i % PNS.length]!, arch: "core2-64", task: ["populate_sysroot", "package", "packagedata"][i % 3]!, seed: `remote-${i}` });
    const old = i % 2 === 0;
    files.push({ path: archive, size: i % 97, old }, { path: `${archive}.siginfo`, size: 3, old });
    if (i % 5 === 0) files.push({ path: `${archive}.sig`, size: 2, old });
  }
  files.push({ path: "README", size: 5, old: true });
  return files;
}

const POLICY = `version: 1
rules:
  - name: keep-me
    keep: { pn: keep-me }
  - name: expire
    delete: { older-than: 300d }
`;

/** A remote cache the scenario can seed and inspect without going through the backend under test. */
interface Remote {
  target: string;
  env: Env;
  seed(files: SeedFile[]): Promise<void>;
  /** Rewrites an object as a build uploading it again would. */
  overwrite(path: string): Promise<void>;
  paths(): Promise<string[]>;
}

async function cli(argv: string[], env: Env, cwd: string) {
  const io = testIo({ cwd, env });
  const code = await run(argv, io);
  return { code, stdout: io.stdoutText, stderr: io.stderrText };
}

/** Runs apply in a child process and kills it with SIGKILL as soon as its journal shows a first batch. */
async function killMidway(planFile: string, journal: string, env: Env, cwd: string): Promise<void> {
  const child = spawn(join(repo, "node_modules/.bin/deno"), ["run", "-A", join(repo, "src/cli.ts"), "apply", planFile, "--journal", journal, "--concurrency", "4", "--batch-size", "50"], {
    cwd,
    env: { ...process.env, ...env, DENO_NO_UPDATE_CHECK: "1" },
    stdio: "ignore",
  });
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  for (;;) {
    if (existsSync(journal) && readFileSync(journal, "utf8").split("\n").filter(Boolean).length > 1) break;
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  child.kill("SIGKILL");
  await exited;
}

function scenario(name: string, makeRemote: () => Promise<Remote>) {
  describe(`plan and apply on ${name}`, () => {
    it("deletes exactly the planned objects, skips one overwritten since planning, and resumes after kill -9", async () => {
      const remote = await makeRemote();
      const work = await mkdtemp(join(tmpdir(), "keeper-remote-"));
      await writeFile(join(work, "policy.yaml"), POLICY);
      const content = cacheContent();
      await remote.seed(content);
      const before = (await remote.paths()).sort();
      expect(before).toHaveLength(content.length);
      expect(before.length).toBeGreaterThan(2500);

      const planned = await cli(["plan", "--policy", "policy.yaml", "--target", remote.target, "--out", "plan.json"], remote.env, work);
      expect(planned.stderr).toBe("");
      expect(planned.code).toBe(0);
      const plan = parsePlan(readFileSync(join(work, "plan.json"), "utf8"), "plan.json");
      const expected = content.filter((f) => f.old && !f.path.includes("sstate:keep-me:") && f.path !== "README").map((f) => f.path).sort();
      expect(plan.delete.map((f) => f.path)).toEqual(expected);
      expect(plan.listing.files).toBe(content.length);

      const touched = expected[0]!;
      await remote.overwrite(touched);

      const journal = join(work, "plan.json.journal");
      await killMidway(join(work, "plan.json"), journal, remote.env, work);
      const afterKill = new Set(await remote.paths());
      const deletedByKilledRun = expected.filter((p) => !afterKill.has(p)).length;
      expect(deletedByKilledRun).toBeGreaterThan(0);
      expect(deletedByKilledRun).toBeLessThan(expected.length - 1);

      const resumed = await cli(["apply", "plan.json"], remote.env, work);
      expect(resumed.code).toBe(4);
      expect(resumed.stdout).toMatch(/skipped\s+1 file/);
      expect(resumed.stdout + resumed.stderr).toContain(touched);

      const gone = new Set(expected.filter((p) => p !== touched));
      expect((await remote.paths()).sort()).toEqual(before.filter((p) => !gone.has(p)));
    });
  });
}

const s3 = inject("s3");
const s3Env = (endpoint = s3.endpoint): Env => ({ AWS_ENDPOINT_URL_S3: endpoint, AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey, AWS_REGION: s3.region });

scenario("S3 (radosgw)", async () => {
  const bucket = `keeper-e2e-${Date.now().toString(36)}`;
  const target = `s3://${bucket}/sstate`;
  const admin = new S3Client({ endpoint: s3.endpoint, region: s3.region, forcePathStyle: true, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
  const { CreateBucketCommand } = await import("@aws-sdk/client-s3");
  await admin.send(new CreateBucketCommand({ Bucket: bucket }));
  const writer = (endpoint: string) => parseTarget(target, "/").open(s3Env(endpoint), openOptions());
  return {
    target,
    env: s3Env(),
    async seed(files) {
      // The faked-clock gateway stamps objects 400 days in the past: remote age is upload time.
      const [now, past] = [await writer(s3.endpoint), await writer(s3.fakedEndpoint)];
      await mapConcurrent(files, 32, (f) => (f.old ? past : now).put(f.path, new Uint8Array(f.size)));
      await Promise.all([now.close(), past.close()]);
    },
    async overwrite(path) {
      const backend = await writer(s3.endpoint);
      await backend.put(path, new TextEncoder().encode("rebuilt"));
      await backend.close();
    },
    async paths() {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await admin.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: "sstate/", ContinuationToken: token }));
        keys.push(...(page.Contents ?? []).map((o) => o.Key!.slice("sstate/".length)));
        token = page.NextContinuationToken;
      } while (token);
      return keys;
    },
  };
});

/** WebDAV objects are files in Apache's data directory: mtimes can be set directly. */
function webdavRemote(server: WebdavServerInfo): () => Promise<Remote> {
  return async () => {
    const name = `e2e-${Date.now().toString(36)}`;
    const root = join(server.dataDir, name);
    const env: Env = server.user === undefined ? {} : { SSTATE_KEEPER_WEBDAV_USER: server.user, SSTATE_KEEPER_WEBDAV_PASSWORD: server.password };
    return {
      target: `${server.url}${name}/`,
      env,
      async seed(files) {
        const oldSeconds = (Date.now() - OLD_AGE) / 1000;
        for (const f of files) {
          const file = join(root, f.path);
          await mkdir(dirname(file), { recursive: true });
          await writeFile(file, new Uint8Array(f.size));
          if (f.old) await utimes(file, oldSeconds, oldSeconds);
        }
      },
      async overwrite(path) {
        await writeFile(join(root, path), "rebuilt");
      },
      async paths() {
        const entries = await readdir(root, { withFileTypes: true, recursive: true });
        return entries.filter((e) => e.isFile()).map((e) => relative(root, join(e.parentPath, e.name)));
      },
    };
  };
}

scenario("WebDAV (Apache, Basic auth, Depth: infinity)", webdavRemote(inject("webdav")));
scenario("WebDAV (Apache, Depth: infinity refused → Depth: 1 fallback)", webdavRemote(inject("webdavNoInfinity")));

describe("remote errors are one clear line, exit 1, nothing deleted", () => {
  it.each([
    { title: "S3 wrong secret", target: "s3://any-bucket/x", env: { ...s3Env(), AWS_SECRET_ACCESS_KEY: "wrong" }, message: "S3 refused the credentials" },
    { title: "S3 unreachable endpoint", target: "s3://any-bucket/x", env: s3Env("http://127.0.0.1:1"), message: "cannot reach S3 endpoint" },
    { title: "WebDAV wrong password", target: inject("webdav").url, env: { SSTATE_KEEPER_WEBDAV_USER: "keeper", SSTATE_KEEPER_WEBDAV_PASSWORD: "wrong" }, message: "refused the credentials" },
  ])("$title", async ({ target, env, message }) => {
    const work = await mkdtemp(join(tmpdir(), "keeper-remote-err-"));
    await writeFile(join(work, "policy.yaml"), POLICY);
    const result = await cli(["plan", "--policy", "policy.yaml", "--target", target], env, work);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(message);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).not.toContain("wrong");
  });
});
