import { mkdtemp, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
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
