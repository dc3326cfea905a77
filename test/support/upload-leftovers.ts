import { mkdir, mkdtemp, readdir, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { expect, it } from "vitest";
import type { Env } from "../../src/backends/index.ts";
import { run } from "../../src/cli/main.ts";
import { testIo } from "./io.ts";
import { sstatePath } from "./listing.ts";

/** A target whose files the test can see on disk (a local directory, or Apache's data directory of a collection). */
export interface LeftoverTarget {
  url: string;
  env: Env;
  dir: string;
  /** Writes a file as the target's server would (Apache owns its collections). */
  write(path: string, data: Uint8Array): Promise<void>;
}

const HOUR = 3_600_000;

/**
 * upload cleans the `.keeper-` temporaries killed uploads left on the target once they are
 * over an hour old, and nothing else: not a younger one (an upload may be writing it), not
 * bitbake's own temp files, not the objects.
 */
export function uploadCleansLeftovers(makeTarget: () => Promise<LeftoverTarget>): void {
  it("upload cleans the target's upload temporaries older than an hour, and nothing else", async () => {
    const target = await makeTarget();
    const archive = sstatePath({ pn: "zlib", arch: "core2-64", task: "populate_sysroot", seed: "leftover" });
    const stale = `${archive}.keeper-0a1b2c3d`;
    const staleSiginfo = `${archive}.siginfo.keeper-99ee77aa`;
    const young = `${archive}.keeper-5566ffee`;
    const bitbakeTemp = `${archive}.Ab3dE5gH`;
    const now = Date.now();
    const plant = async (path: string, ageMs: number) => {
      await target.write(path, new TextEncoder().encode("partial"));
      const mtime = new Date(now - ageMs);
      await utimes(join(target.dir, path), mtime, mtime);
    };
    await plant(stale, 2 * HOUR);
    await plant(staleSiginfo, 30 * HOUR);
    await plant(young, HOUR / 2);
    await plant(bitbakeTemp, 30 * HOUR);
    await plant(archive, 30 * HOUR);
    const source = await mkdtemp(join(tmpdir(), "keeper-leftover-source-"));
    await mkdir(dirname(join(source, `${archive}.siginfo`)), { recursive: true });
    await writeFile(join(source, `${archive}.siginfo`), "siginfo");

    const cli = async (...argv: string[]) => {
      const io = testIo({ cwd: source, env: target.env });
      return { code: await run(argv, io), stdout: io.stdoutText, stderr: io.stderrText };
    };
    const dryRun = await cli("upload", source, target.url, "--dry-run");
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toContain(`would clean ${stale} (left by an interrupted upload)`);
    expect(dryRun.stdout).toMatch(/target leftovers +would clean 2 files, 14 B left by uploads interrupted over 1h ago/);
    expect(await filesUnder(target.dir)).toEqual([archive, bitbakeTemp, young, stale, staleSiginfo].sort());

    const upload = await cli("upload", source, target.url);
    expect(upload.stderr).toBe("");
    expect(upload.code).toBe(0);
    expect(upload.stdout).toMatch(/uploaded +1 file/);
    expect(upload.stdout).toMatch(/target leftovers +cleaned 2 files, 14 B left by uploads interrupted over 1h ago\n/);
    expect(await filesUnder(target.dir)).toEqual([archive, `${archive}.siginfo`, bitbakeTemp, young].sort());

    const again = await cli("upload", source, target.url);
    expect(again.code).toBe(0);
    expect(again.stdout).not.toContain("target leftovers");
  });
}

async function filesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => relative(root, join(entry.parentPath, entry.name))).sort();
}
