import { mkdir, mkdtemp, readdir, readFile, rename, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import type { ExpectedFile } from "../../src/backends/backend.ts";
import { FsBackend } from "../../src/backends/fs.ts";
import { SMALL_JOB } from "../../src/backends/fs-delete-threads.ts";
import { backendConformance } from "./conformance.ts";

async function directoriesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isDirectory()).map((e) => relative(root, join(e.parentPath, e.name)).split("\\").join("/"));
}

backendConformance("fs", async () => {
  const root = await mkdtemp(join(tmpdir(), "keeper-fs-"));
  return { backend: new FsBackend(root), directories: () => directoriesUnder(root) };
});

describe("fs listing order", () => {
  it("yields files in path order across directories, whatever characters sort before '/'", async () => {
    const root = await mkdtemp(join(tmpdir(), "keeper-fs-order-"));
    const paths = ["a/x", "a-b/y", "a.x", "a0", "a/b/c/deep", "b+c/d", "universal/00/11/f", "universal-old/f", "00/z", "00/00/z", "00-/z", "README"];
    for (const path of paths) {
      await mkdir(join(root, dirname(path)), { recursive: true });
      await writeFile(join(root, path), path);
    }
    const listed: string[] = [];
    for await (const batch of new FsBackend(root).list()) listed.push(...batch.map((file) => file.path));
    expect(listed).toEqual([...paths].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  });
});

describe("fs deletion stays inside the root", () => {
  it("refuses a file whose directory was replaced by a symlink to outside the root, and removes no directory there", async () => {
    const root = await mkdtemp(join(tmpdir(), "keeper-fs-root-"));
    const outside = await mkdtemp(join(tmpdir(), "keeper-fs-outside-"));
    const name = "sstate:zlib:core2-64-poky-linux:1.3.1:r0:core2-64:14:ab12_populate_sysroot.tar.zst";
    await mkdir(join(outside, "cd", "empty"), { recursive: true });
    await writeFile(join(outside, "cd", name), "precious");
    await mkdir(join(root, "ef", "gh"), { recursive: true });
    await writeFile(join(root, "ef", "gh", name), "deletable");
    await symlink(outside, join(root, "ab"));
    const backend = new FsBackend(root);

    const expected = (path: string) => ({ path, size: 9, mtimeMs: Date.now() });
    const deletable = (await backend.stat(`ef/gh/${name}`))!;
    const outcomes = await backend.deleteMany([expected(`ab/cd/${name}`), deletable, expected(`ef/gone/${name}`)]);
    expect(outcomes).toEqual([
      { path: `ab/cd/${name}`, status: "failed", error: expect.stringContaining("no longer a directory inside the target root") },
      { path: `ef/gh/${name}`, status: "deleted" },
      { path: `ef/gone/${name}`, status: "missing" },
    ]);
    expect(await readFile(join(outside, "cd", name), "utf8")).toBe("precious");
    await backend.removeEmptyDirs(["ab/cd/empty", "ef/gh"]);
    expect(await readdir(join(outside, "cd"))).toContain("empty");
    expect(await readdir(root)).toEqual(["ab"]);
  });
});

// Real names (test/fixtures/real-sstate-names.txt), each in its own hash directory as OE lays them out.
const ZLIB = "sstate:zlib:core2-64-poky-linux:1.3.1:r0:core2-64:14:ab12_populate_sysroot.tar.zst";
const TIMER =
  "sstate:software-timer:cortexa8hf-neon-poky-linux-gnueabi:0.1+gitAUTOINC+5d8327406d:r0:cortexa8hf-neon:3:0c9bd8928d96ea141f606e3372ed55f6c8b9d0e969443de97039aaf0588be7db_populate_sysroot.tgz";

async function writeFiles(root: string, files: Record<string, string>): Promise<void> {
  for (const [path, body] of Object.entries(files)) {
    await mkdir(join(root, dirname(path)), { recursive: true });
    await writeFile(join(root, path), body);
  }
}

describe("fs deletion threads: one batch, every outcome", () => {
  // A small batch is done on the calling thread, a larger one on a deletion thread: the same outcomes either way.
  it.each([["on the calling thread", 0], ["on a deletion thread", SMALL_JOB]])(
    "deletes, finds missing, keeps changed, fails and refuses files of one batch, each in its own order (%s)",
    async (_, fillers) => {
      const root = await mkdtemp(join(tmpdir(), "keeper-fs-batch-"));
      const filler = Array.from({ length: fillers }, (_, i) => `e${i % 10}/0${i % 7}/${i}-${TIMER}`);
      await writeFiles(root, Object.fromEntries(filler.map((path) => [path, path])));
      const outside = await mkdtemp(join(tmpdir(), "keeper-fs-batch-outside-"));
      await writeFiles(root, {
        [`0c/9b/${TIMER}`]: "deletable",
        [`0c/9b/${TIMER}.siginfo`]: "grown since planning",
        [`ab/12/${ZLIB}`]: "its aside name is taken",
        [`ab/12/${ZLIB}.deleting/in-the-way`]: "a directory holding a file",
        [`ab/13/${ZLIB}.deleting`]: "left aside by a killed run",
        [`56/ef/${TIMER}`]: "deletable too",
      });
      await writeFiles(outside, { [`cd/${ZLIB}`]: "precious" });
      await symlink(join(outside, "cd"), join(root, "0c", "cd"));
      const backend = new FsBackend(root);
      const planned = async (path: string) => ({ ...(await backend.stat(path))! });
      const aside = await backend.stat(`ab/13/${ZLIB}.deleting`);

      const rows: { path: string; expected: ExpectedFile; outcome: Record<string, unknown> }[] = [
        { path: `0c/9b/${TIMER}`, expected: await planned(`0c/9b/${TIMER}`), outcome: { status: "deleted" } },
        {
          path: `0c/9b/${TIMER}.siginfo`,
          expected: { ...(await planned(`0c/9b/${TIMER}.siginfo`)), size: 3 },
          outcome: { status: "changed", reason: expect.stringContaining("size changed from 3 to 20 bytes") },
        },
        { path: `0c/9b/${ZLIB}`, expected: { path: "", size: 1, mtimeMs: 0 }, outcome: { status: "missing" } },
        { path: `0c/cd/${ZLIB}`, expected: { path: "", size: 8, mtimeMs: 0 }, outcome: { status: "failed", error: expect.stringContaining("no longer a directory inside the target root") } },
        { path: `ab/12/${ZLIB}`, expected: await planned(`ab/12/${ZLIB}`), outcome: { status: "failed", error: `EISDIR: illegal operation on a directory, rename '${ZLIB}' -> '${ZLIB}.deleting'` } },
        { path: `ab/13/${ZLIB}`, expected: { path: "", size: aside!.size, mtimeMs: aside!.mtimeMs }, outcome: { status: "deleted" } },
        { path: `ab/gone/${ZLIB}`, expected: { path: "", size: 1, mtimeMs: 0 }, outcome: { status: "missing" } },
        { path: `56/ef/${TIMER}`, expected: await planned(`56/ef/${TIMER}`), outcome: { status: "deleted" } },
      ];
      for (const path of filler) rows.push({ path, expected: await planned(path), outcome: { status: "deleted" } });
      try {
        const outcomes = await backend.deleteMany(rows.map((row) => ({ ...row.expected, path: row.path })));
        expect(outcomes).toEqual(rows.map((row) => ({ path: row.path, ...row.outcome })));
        const left = await readdir(root, { recursive: true });
        expect(left.filter((path) => path.includes(".deleting")).map((path) => path.split("\\").join("/"))).toEqual([`ab/12/${ZLIB}.deleting`, `ab/12/${ZLIB}.deleting/in-the-way`]);
        expect(await readFile(join(root, "0c", "9b", `${TIMER}.siginfo`), "utf8")).toBe("grown since planning");
        expect(await readFile(join(root, "ab", "12", ZLIB), "utf8")).toBe("its aside name is taken");
        expect(await readFile(join(outside, "cd", ZLIB), "utf8")).toBe("precious");
      } finally {
        await backend.close();
      }
    },
  );

  it("batches in flight at once each get their own outcomes", async () => {
    const root = await mkdtemp(join(tmpdir(), "keeper-fs-parallel-"));
    const paths = Array.from({ length: 4 * SMALL_JOB }, (_, i) => `${(i % 16).toString(16).padStart(2, "0")}/${(i % 7).toString(16).padStart(2, "0")}/${i}-${TIMER}`);
    await writeFiles(root, Object.fromEntries(paths.map((path) => [path, path])));
    const backend = new FsBackend(root);
    try {
      const expected = await Promise.all(paths.map(async (path) => (await backend.stat(path))!));
      const batches = Array.from({ length: 3 }, (_, b) => expected.filter((_, i) => i % 3 === b));
      const outcomes = await Promise.all(batches.map((batch) => backend.deleteMany(batch)));
      expect(outcomes).toEqual(batches.map((batch) => batch.map(({ path }) => ({ path, status: "deleted" }))));
      await backend.removeEmptyDirs(paths.map((path) => dirname(path)));
      expect(await readdir(root)).toEqual([]);
    } finally {
      await backend.close();
    }
  });

  it("refuses every file once the root itself was swapped for another directory", async () => {
    const parent = await mkdtemp(join(tmpdir(), "keeper-fs-swapped-root-"));
    const root = join(parent, "cache");
    const files = { [`0c/9b/${TIMER}`]: "first", [`56/ef/${TIMER}`]: "second" };
    await writeFiles(root, files);
    const backend = new FsBackend(root);
    try {
      const [first, second] = await Promise.all(Object.keys(files).map(async (path) => (await backend.stat(path))!));
      expect(await backend.deleteMany([first!])).toEqual([{ path: first!.path, status: "deleted" }]);
      // Same path, same files, another directory: not the root apply started with.
      await rename(root, join(parent, "moved"));
      await writeFiles(root, files);
      expect(await backend.deleteMany([second!])).toEqual([{ path: second!.path, status: "failed", error: expect.stringContaining("no longer a directory inside the target root") }]);
      expect(await readFile(join(root, "56", "ef", TIMER), "utf8")).toBe("second");
    } finally {
      await backend.close();
    }
  });

  it("removes emptied directories deepest first, never one that holds a file or lies behind a symlink", async () => {
    const root = await mkdtemp(join(tmpdir(), "keeper-fs-rmdir-"));
    const outside = await mkdtemp(join(tmpdir(), "keeper-fs-rmdir-outside-"));
    for (const dir of ["universal/0c/9b", "universal/0c/9c", "universal/56/ef", "0c/9b", "ab/12"]) await mkdir(join(root, dir), { recursive: true });
    await writeFiles(root, { [`ab/12/${ZLIB}`]: "kept" });
    await mkdir(join(outside, "empty"));
    await symlink(outside, join(root, "ee"));
    const backend = new FsBackend(root);
    try {
      await backend.removeEmptyDirs(["universal/0c/9b", "universal/0c/9c", "universal/56/ef", "0c/9b", "ab/12", "ee/empty", "ff/never-existed"]);
      expect((await readdir(root)).sort()).toEqual(["ab", "ee"]);
      expect(await readdir(join(root, "ab", "12"))).toEqual([ZLIB]);
      expect(await readdir(outside)).toEqual(["empty"]);
    } finally {
      await backend.close();
    }
  });
});
