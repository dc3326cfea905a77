import { mkdir, mkdtemp, readdir, writeFile } from "node:fs/promises";
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
