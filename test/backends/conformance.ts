import { describe, expect, it } from "vitest";
import { NotFoundError, type Backend, type ExpectedFile, type RemoteFile } from "../../src/backends/backend.ts";
import { mapConcurrent } from "../../src/util/concurrency.ts";

/** A fresh, empty cache root on the backend under test. */
export interface ConformanceFixture {
  backend: Backend;
  /** Lists directories directly (bypassing the backend), relative to the root; for empty-dir checks. */
  directories(): Promise<string[]>;
}

const HASH = "0c9bd8928d96ea141f606e3372ed55f6c8b9d0e969443de97039aaf0588be7db";
const ARCHIVE = `0c/9b/sstate:software-timer:cortexa8hf-neon-poky-linux-gnueabi:0.1:r0:cortexa8hf-neon:14:${HASH}_populate_sysroot.tar.zst`;

async function statAll(backend: Backend, paths: readonly string[]): Promise<ExpectedFile[]> {
  return mapConcurrent(paths, 8, async (path) => {
    const file = await backend.stat(path);
    if (!file) throw new Error(`${path} was just put but does not exist`);
    return file;
  });
}

async function listAll(backend: Backend): Promise<RemoteFile[]> {
  const files: RemoteFile[] = [];
  for await (const batch of backend.list()) files.push(...batch);
  return files.sort((a, b) => (a.path < b.path ? -1 : 1));
}

function manyPaths(count: number): string[] {
  return Array.from({ length: count }, (_, i) => {
    // Multiplying by an odd constant is a bijection mod 2^32: distinct, well-spread hashes.
    const hash = (Math.imul(i + 1, 2654435761) >>> 0).toString(16).padStart(8, "0").repeat(8);
    return `${i % 3 === 0 ? "universal/" : ""}${hash.slice(0, 2)}/${hash.slice(2, 4)}/sstate:zlib-native:x86_64-linux:1.3.1:r0:x86_64:14:${hash}_populate_sysroot.tar.zst`;
  });
}

/**
 * The behaviour every backend must have (restic-style conformance suite). Each backend's
 * test file calls this with a factory that gives a fresh empty root for every test.
 */
export function backendConformance(
  name: string,
  fresh: () => Promise<ConformanceFixture>,
  options: { manyFiles?: number } = {},
): void {
  describe(`${name} backend conformance`, () => {
    it("puts, gets and stats an object", async () => {
      const { backend } = await fresh();
      const data = new TextEncoder().encode("archive bytes");
      await backend.put(ARCHIVE, data);
      expect(new TextDecoder().decode(await backend.get(ARCHIVE))).toBe("archive bytes");
      const stat = await backend.stat(ARCHIVE);
      expect(stat).toMatchObject({ path: ARCHIVE, size: data.length });
      expect(Math.abs(stat!.mtimeMs - Date.now())).toBeLessThan(120_000);
      expect(await backend.stat(`${ARCHIVE}.siginfo`)).toBeUndefined();
      await expect(backend.get(`${ARCHIVE}.siginfo`)).rejects.toBeInstanceOf(NotFoundError);
      await backend.close();
    });

    it("overwrites an object in place", async () => {
      const { backend } = await fresh();
      await backend.put(ARCHIVE, new TextEncoder().encode("one"));
      await backend.put(ARCHIVE, new TextEncoder().encode("second"));
      expect(new TextDecoder().decode(await backend.get(ARCHIVE))).toBe("second");
      expect((await listAll(backend)).map((f) => f.path)).toEqual([ARCHIVE]);
      await backend.close();
    });

    const count = options.manyFiles ?? 1200;
    it(`lists ${count} objects in nested directories with sizes and mtimes`, async () => {
      const { backend } = await fresh();
      const paths = manyPaths(count);
      await mapConcurrent(paths, 16, (path, i) => backend.put(path, new Uint8Array(i % 7)));
      await backend.put("README", new TextEncoder().encode("unmanaged"));
      const listed = await listAll(backend);
      expect(listed.map((f) => f.path)).toEqual([...paths, "README"].sort());
      const bySize = new Map(listed.map((f) => [f.path, f.size]));
      paths.forEach((path, i) => expect(bySize.get(path)).toBe(i % 7));
      for (const file of listed) expect(Math.abs(file.mtimeMs - Date.now())).toBeLessThan(600_000);
      await backend.close();
    });

    it("deletes many, reporting missing objects and removing empty directories", async () => {
      const { backend, directories } = await fresh();
      const paths = manyPaths(30);
      await mapConcurrent(paths, 8, (path) => backend.put(path, new Uint8Array(1)));
      const keep = paths[0]!;
      const gone = paths.slice(1);
      const absent = { path: "ff/ff/does-not-exist", size: 1, mtimeMs: Date.now() };
      const outcomes = await backend.deleteMany([...(await statAll(backend, gone)), absent]);
      expect(outcomes.map((o) => o.path)).toEqual([...gone, absent.path]);
      expect(outcomes.filter((o) => o.status === "deleted").map((o) => o.path).sort()).toEqual([...gone].sort());
      expect(outcomes.at(-1)?.status).toBe("missing");
      expect((await listAll(backend)).map((f) => f.path)).toEqual([keep]);
      await backend.removeEmptyDirs?.(gone.map((p) => p.slice(0, p.lastIndexOf("/"))));
      const dirs = await directories();
      const keepDirs = keep.split("/").slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join("/"));
      expect(dirs.sort()).toEqual(keepDirs.sort());
      await backend.close();
    });

    it("deletes nothing that changed since it was expected", async () => {
      const { backend } = await fresh();
      await backend.put(ARCHIVE, new TextEncoder().encode("as planned"));
      const [planned] = await statAll(backend, [ARCHIVE]);
      await backend.put(ARCHIVE, new TextEncoder().encode("rebuilt, longer"));
      const [outcome] = await backend.deleteMany([planned!]);
      expect(outcome).toMatchObject({ path: ARCHIVE, status: "changed" });
      expect((await listAll(backend)).map((f) => f.path)).toEqual([ARCHIVE]);
      await backend.close();
    });
  });
}
