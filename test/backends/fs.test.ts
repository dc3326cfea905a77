import { mkdir, mkdtemp, readdir, readFile, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { FsBackend } from "../../src/backends/fs.ts";
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
