import { mkdir, mkdtemp, readdir, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { run } from "../src/cli/main.ts";
import { type ManifestRemote, usedByBuildsScenario } from "./support/build-manifests.ts";
import { testIo } from "./support/io.ts";

const DAY = 86_400_000;

async function filesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => relative(root, join(entry.parentPath, entry.name)));
}

/** A local cache directory; `manifestsRoot`: where `stamps --publish` writes (the cache itself by default). */
async function localCache(manifestsRoot?: string): Promise<ManifestRemote> {
  const root = await mkdtemp(join(tmpdir(), "keeper-local-cache-"));
  const published = manifestsRoot ?? root;
  return {
    target: root,
    env: {},
    async seed(paths) {
      const old = new Date(Date.now() - 30 * DAY);
      for (const path of paths) {
        await mkdir(dirname(join(root, path)), { recursive: true });
        await writeFile(join(root, path), "x");
        await utimes(join(root, path), old, old);
      }
    },
    paths: () => filesUnder(root),
    async publish(argv, clock, backdateObject) {
      const before = new Set(await filesUnder(published));
      const io = testIo({ cwd: root, clock: () => clock });
      const code = await run(argv, io);
      if (backdateObject) {
        const written = (await filesUnder(published)).filter((path) => !before.has(path));
        expect(written).toHaveLength(1);
        const past = new Date(Date.now() - 400 * DAY);
        await utimes(join(published, written[0]!), past, past);
      }
      return { code, stdout: io.stdoutText, stderr: io.stderrText };
    },
  };
}

describe("build manifests on a local cache", () => {
  it("two recent builds' manifests published into the cache keep exactly the union of what they used", async () => {
    await usedByBuildsScenario(await localCache());
  });

  it("manifests published to another directory (from:) do the same", async () => {
    const elsewhere = await mkdtemp(join(tmpdir(), "keeper-manifests-elsewhere-"));
    await usedByBuildsScenario(await localCache(elsewhere), { from: elsewhere });
  });

  it("a manifest that is not one stops the plan with exit 2, naming it", async () => {
    const cache = await mkdtemp(join(tmpdir(), "keeper-bad-manifest-"));
    await mkdir(join(cache, ".sstate-keeper", "builds"), { recursive: true });
    await writeFile(join(cache, ".sstate-keeper", "builds", "20261101T000000.000Z-x-00000000.hashes.gz"), "not gzip");
    await writeFile(join(cache, "policy.yaml"), "version: 1\nrules:\n  - name: used\n    keep: { used-by-builds: { within: 7d } }\n  - name: rest\n    delete: { all: true }\n");
    const io = testIo({ cwd: cache });
    expect(await run(["plan", "--policy", "policy.yaml", "--target", ".", "--now", "2026-11-02T00:00:00Z"], io)).toBe(2);
    expect(io.stderrText).toMatch(/build manifest .*20261101T000000\.000Z-x-00000000\.hashes\.gz: not gzip-compressed UTF-8 text; remove it/);
  });

  it("stamps --publish with no stamps found publishes nothing and exits 2", async () => {
    const dir = await mkdtemp(join(tmpdir(), "keeper-empty-stamps-"));
    await mkdir(join(dir, "stamps"));
    const io = testIo({ cwd: dir });
    expect(await run(["stamps", "stamps", "--publish", "cache"], io)).toBe(2);
    expect(io.stderrText).toContain("no sigdata or setscene stamps found; nothing was published");
    expect(await filesUnder(join(dir, "cache"))).toEqual([]);
  });

  it("a from: location that is no target is reported where it is written, before anything is listed, without its credentials", async () => {
    const dir = await mkdtemp(join(tmpdir(), "keeper-bad-from-"));
    await writeFile(join(dir, "policy.yaml"), "version: 1\nrules:\n  - name: used\n    keep: { used-by-builds: { within: 7d, from: 's3://AKIA:s3cr3t@bucket/x' } }\n");
    const io = testIo({ cwd: dir });
    expect(await run(["validate", "policy.yaml"], io)).toBe(2);
    expect(io.stderrText).toMatch(/^policy\.yaml:4:\d+: used-by-builds from: a target URL must not contain credentials/);
    expect(io.stderrText).not.toContain("s3cr3t");
  });

  it("a from: location that does not exist stops the plan", async () => {
    const cache = await mkdtemp(join(tmpdir(), "keeper-no-manifests-"));
    await writeFile(join(cache, "policy.yaml"), "version: 1\nrules:\n  - name: used\n    keep: { used-by-builds: { within: 7d, from: ../no-such-manifests } }\n");
    const io = testIo({ cwd: cache });
    expect(await run(["plan", "--policy", "policy.yaml", "--target", "."], io)).toBe(1);
    expect(io.stderrText).toContain("no-such-manifests");
  });
});
