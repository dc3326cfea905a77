import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEMO_NOW, generateCache, type GeneratedFile } from "../../src/demo/generate.ts";
import { writeCache } from "../../src/demo/write.ts";

/** Under 8 KiB per file: for tests that read or upload the content, not just list it. */
const SMALL_FILE_MODULUS = 8191;

/**
 * A generated cache written to a fresh temp dir; `files` is the ground truth. Real sizes reach
 * hundreds of MiB (sparse on disk); `smallFiles` keeps each file's size modulo 8191 instead.
 */
export async function generatedCache(count: number, options: { seed?: number; smallFiles?: boolean } = {}): Promise<{ root: string; files: GeneratedFile[] }> {
  const root = await mkdtemp(join(tmpdir(), "keeper-cache-"));
  const generated = [...generateCache({ files: count, seed: options.seed ?? 1, now: DEMO_NOW })];
  const files = options.smallFiles ? generated.map((file) => ({ ...file, size: file.size % SMALL_FILE_MODULUS })) : generated;
  await writeCache(root, files);
  return { root, files };
}

export const DEMO_NOW_ISO = new Date(DEMO_NOW).toISOString();
