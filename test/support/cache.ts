import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEMO_NOW, generateCache, type GeneratedFile } from "../../src/demo/generate.ts";
import { writeCache } from "../../src/demo/write.ts";

/** A generated cache written to a fresh temp dir; `files` is the ground truth. */
export async function generatedCache(count: number, seed = 1): Promise<{ root: string; files: GeneratedFile[] }> {
  const root = await mkdtemp(join(tmpdir(), "keeper-cache-"));
  const files = [...generateCache({ files: count, seed, now: DEMO_NOW })];
  await writeCache(root, files);
  return { root, files };
}

export const DEMO_NOW_ISO = new Date(DEMO_NOW).toISOString();
