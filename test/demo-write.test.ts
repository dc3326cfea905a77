import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DEMO_NOW, generateCache } from "../src/demo/generate.ts";
import { writeCache } from "../src/demo/write.ts";

describe("writeCache", () => {
  let root: string | undefined;
  afterEach(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it("writes sparse files with the generated sizes and mtimes", async () => {
    root = mkdtempSync(join(tmpdir(), "sstate-keeper-demo-"));
    const files = [...generateCache({ files: 400, now: DEMO_NOW })];
    const progress: number[] = [];
    const result = await writeCache(root, files, { onProgress: (written) => progress.push(written) });

    expect(result).toEqual({ files: 400, bytes: files.reduce((sum, file) => sum + file.size, 0) });
    expect(progress.at(-1)).toBe(400);
    let allocatedBytes = 0;
    for (const file of files) {
      const stat = statSync(join(root, file.path));
      expect(stat.size, file.path).toBe(file.size);
      expect(Math.abs(stat.mtimeMs - file.mtimeMs), file.path).toBeLessThan(1000);
      allocatedBytes += stat.blocks * 512;
    }
    expect(result.bytes).toBeGreaterThan(100 * 1024 * 1024);
    expect(allocatedBytes).toBeLessThan(1024 * 1024);
  });

  it("refuses paths that leave the root", async () => {
    root = mkdtempSync(join(tmpdir(), "sstate-keeper-demo-"));
    await expect(writeCache(root, [{ path: "../escape", size: 1, mtimeMs: DEMO_NOW }])).rejects.toThrow(/outside/);
  });
});
