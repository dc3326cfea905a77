// Names and file types a real local cache can hold that are not plain sstate files: every one is
// planned and applied, or listed once as unmanaged and never opened.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rename, symlink, utimes, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BackendError } from "../src/backends/backend.ts";
import { FsBackend } from "../src/backends/fs.ts";
import { run } from "../src/cli/main.ts";
import { parsePlan } from "../src/plan/read-plan.ts";
import { collectListing } from "../src/sstate/listing.ts";
import { testIo } from "./support/io.ts";
import { sstatePath } from "./support/listing.ts";

const OLD = new Date("2024-01-01T00:00:00Z");
const DELETE_ALL = "version: 1\nguards: { min-age: 0s, allow-empty: true }\nrules:\n  - name: everything\n    delete: { all: true }\n";
/** These commands take milliseconds; a blocked open would never return. */
const BOUND_MS = 10_000;

async function cli(cwd: string, ...argv: string[]) {
  const io = testIo({ cwd });
  const started = Date.now();
  const code = await run(argv, io);
  return { code, stdout: io.stdoutText, stderr: io.stderrText, ms: Date.now() - started };
}

async function writeOld(root: string, path: string, content = "x"): Promise<void> {
  await mkdir(dirname(join(root, path)), { recursive: true });
  await writeFile(join(root, path), content);
  await utimes(join(root, path), OLD, OLD);
}

async function allPaths(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await allPaths(join(dir, entry.name), path)));
    else out.push(path);
  }
  return out.sort();
}

describe("FIFOs and sockets with sstate names are unmanaged and never opened", () => {
  const archive = sstatePath({ pn: "zlib", arch: "core2-64", task: "populate_sysroot", seed: "regular" });
  const fifo = sstatePath({ pn: "zlib", arch: "core2-64", task: "package", seed: "fifo" });
  const fifoSiginfo = `${sstatePath({ pn: "zlib", arch: "core2-64", task: "packagedata", seed: "fifo-2" })}.siginfo`;
  const socket = sstatePath({ pn: "busybox", arch: "core2-64", task: "package", seed: "socket" });
  let work: string;
  let cache: string;
  let server: Server;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "keeper-special-"));
    cache = join(work, "cache");
    await writeOld(cache, archive);
    await writeOld(cache, `${archive}.siginfo`);
    for (const path of [fifo, fifoSiginfo]) {
      await mkdir(dirname(join(cache, path)), { recursive: true });
      execFileSync("mkfifo", [join(cache, path)]);
    }
    await mkdir(dirname(join(cache, socket)), { recursive: true });
    // A socket path is limited to about 100 bytes: bound at a short one, then moved into the cache.
    const shortPath = join(work, "s.sock");
    server = createServer();
    await new Promise<void>((resolve) => server.listen(shortPath, resolve));
    await rename(shortPath, join(cache, socket));
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it("the fs listing marks them special, and the listing leaves them unmanaged", async () => {
    const listing = await collectListing(new FsBackend(cache).list());
    const byPath = new Map([...listing.objects()].map((file) => [file.path, file]));
    for (const path of [fifo, fifoSiginfo, socket]) expect(byPath.get(path)).toMatchObject({ special: true, name: undefined });
    expect(byPath.get(archive)).toMatchObject({ name: { kind: "archive", pn: "zlib" } });
    expect(byPath.get(archive)!.special).toBeUndefined();
    expect(await new FsBackend(cache).stat(fifo)).toMatchObject({ path: fifo, special: true });
  });

  it("plan with 'delete everything' plans only the regular files and counts the others unmanaged", async () => {
    await writeFile(join(work, "all.yaml"), DELETE_ALL);
    const planned = await cli(work, "plan", "--policy", "all.yaml", "--target", cache, "--out", "plan.json");
    expect(planned.stderr).toBe("");
    expect(planned.code).toBe(0);
    const plan = parsePlan(await readFile(join(work, "plan.json"), "utf8"), "plan.json");
    expect(plan.delete.map((file) => file.path).sort()).toEqual([archive, `${archive}.siginfo`].sort());
    expect(plan.summary.unmanaged.files).toBe(3);
  });

  it("info counts them as unmanaged", async () => {
    const { code, stdout, ms } = await cli(work, "info", cache, "--format", "json");
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.byKind.unmanaged.files).toBe(3);
    expect(report.byKind.archive.files).toBe(1);
    expect(ms).toBeLessThan(BOUND_MS);
  });

  it("upload completes without opening them and uploads only the regular files", async () => {
    const mirror = join(work, "mirror");
    const { code, stdout, stderr, ms } = await cli(work, "upload", cache, mirror);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toMatch(/uploaded +2 files/);
    expect(stdout).toContain("3 unmanaged files");
    expect(await allPaths(mirror)).toEqual([archive, `${archive}.siginfo`].sort());
    expect(ms).toBeLessThan(BOUND_MS);
  });

  it("get refuses a FIFO, directly or through a symlink, without blocking", async () => {
    const backend = new FsBackend(cache);
    const link = `${fifo}.link`;
    await symlink(join(cache, fifo), join(cache, link));
    for (const path of [fifo, link, socket]) {
      const started = Date.now();
      const error = await backend.get(path).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(BackendError);
      expect((error as Error).message).toBe(`${path}: not a regular file (a FIFO, socket or device); not read`);
      expect(Date.now() - started).toBeLessThan(BOUND_MS);
    }
    expect(new TextDecoder().decode(await backend.get(archive))).toBe("x");
  });
});

describe("a backslash is an ordinary character in a POSIX file name", () => {
  const backslashed = sstatePath({ pn: "weird\\name", arch: "core2-64", task: "populate_sysroot", seed: "backslash" });
  const plain = sstatePath({ pn: "zlib", arch: "core2-64", task: "populate_sysroot", seed: "plain" });
  let work: string;
  let cache: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "keeper-backslash-"));
    cache = join(work, "cache");
    await writeOld(cache, backslashed);
    await writeOld(cache, plain);
    await writeFile(join(work, "all.yaml"), DELETE_ALL);
  });

  it("the listing and the planner see the name as it is on disk", async () => {
    const listing = await collectListing(new FsBackend(cache).list());
    expect([...listing.objects()].find((file) => file.path === backslashed)).toMatchObject({ name: { pn: "weird\\name", kind: "archive" } });
    const { code, stderr } = await cli(work, "plan", "--policy", "all.yaml", "--target", cache, "--out", "plan.json");
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const plan = parsePlan(await readFile(join(work, "plan.json"), "utf8"), "plan.json");
    expect(plan.delete.map((file) => file.path).sort()).toEqual([backslashed, plain].sort());
  });

  // A backslash is an ordinary character of a POSIX file name: plan and apply agree on it.
  it("apply deletes exactly the planned files, the backslashed one included", async () => {
    await cli(work, "plan", "--policy", "all.yaml", "--target", cache, "--out", "apply-plan.json");
    const applied = await cli(work, "apply", "apply-plan.json");
    expect(applied.stderr).not.toContain("backslash");
    expect(applied.code).toBe(0);
    expect(existsSync(join(cache, backslashed))).toBe(false);
    expect(existsSync(join(cache, plain))).toBe(false);
  });
});
