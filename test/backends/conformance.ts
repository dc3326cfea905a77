import { Buffer } from "node:buffer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Backend, type DeleteOutcome, type ExpectedFile, NotFoundError, type RemoteFile } from "../../src/backends/backend.ts";
import { changeSincePlanning, opaqueTag } from "../../src/backends/precondition.ts";
import { mapConcurrent } from "../../src/util/concurrency.ts";
import { listAll } from "../support/list-all.ts";

/** A fresh, empty cache root on the backend under test. */
export interface ConformanceFixture {
  backend: Backend;
  /** Lists directories directly (bypassing the backend), relative to the root; for empty-dir checks. */
  directories(): Promise<string[]>;
}

const HASH = "0c9bd8928d96ea141f606e3372ed55f6c8b9d0e969443de97039aaf0588be7db";
const ARCHIVE = `0c/9b/sstate:software-timer:cortexa8hf-neon-poky-linux-gnueabi:0.1:r0:cortexa8hf-neon:14:${HASH}_populate_sysroot.tar.zst`;
/** Characters real recipe names and odd mirrors have that URLs and XML must carry: `+` (libstdc++), `%`, a space, `~`, non-ASCII. */
const ODD_NAMES = [
  `4c/1d/sstate:libstdc++:core2-64-poky-linux:14.2.0:r0:core2-64:14:${"4c1d".repeat(16)}_package.tar.zst`,
  `4c/1e/sstate:gtk+3:core2-64-poky-linux:3.24.43:r0:core2-64:14:${"4c1e".repeat(16)}_package.tar.zst.siginfo`,
  "odd/100% done ~ünïcode.txt",
];

async function statAll(backend: Backend, paths: readonly string[]): Promise<RemoteFile[]> {
  return mapConcurrent(paths, 8, async (path) => {
    const file = await backend.stat(path);
    if (!file) throw new Error(`${path} was just put but does not exist`);
    return file;
  });
}

function manyPaths(count: number): string[] {
  return Array.from({ length: count }, (_, i) => {
    // Multiplying by an odd constant is a bijection mod 2^32: distinct, well-spread hashes.
    const hash = (Math.imul(i + 1, 2654435761) >>> 0).toString(16).padStart(8, "0").repeat(8);
    return `${i % 3 === 0 ? "universal/" : ""}${hash.slice(0, 2)}/${hash.slice(2, 4)}/sstate:zlib-native:x86_64-linux:1.3.1:r0:x86_64:14:${hash}_populate_sysroot.tar.zst`;
  });
}

/** A deterministic shuffle, so that no backend is only ever asked in sorted order. */
function shuffled<T>(items: readonly T[]): T[] {
  const result = [...items];
  for (let i = result.length - 1, seed = 7; i > 0; i--) {
    seed = Math.imul(seed ^ i, 2654435761) >>> 0;
    const j = seed % (i + 1);
    [result[i], result[j]] = [result[j]!, result[i]!];
  }
  return result;
}

/**
 * What a file says about its version: the fields apply's preconditions compare, the ETag as they
 * compare it (weakly: Apache calls a tag weak while its file is under a second old, strong later).
 */
function versionOf(file: RemoteFile | undefined): ExpectedFile | undefined {
  return file && { path: file.path, size: file.size, mtimeMs: file.mtimeMs, etag: file.etag === undefined ? undefined : opaqueTag(file.etag) };
}

/** Kinds of open handles (sockets, timers, files) and how many of each. */
function openHandles(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return counts;
}

/** The handle kinds of which more are open than in `baseline`, once closing has had up to five seconds. */
async function handlesBeyond(baseline: Map<string, number>): Promise<string[]> {
  const beyond = () => [...openHandles()].filter(([kind, count]) => count > (baseline.get(kind) ?? 0)).map(([kind, count]) => `${kind} ×${count}`);
  for (const deadline = Date.now() + 5000; beyond().length > 0 && Date.now() < deadline;) await new Promise((resolve) => setTimeout(resolve, 50));
  return beyond();
}

/**
 * The behaviour every backend must have (restic-style conformance suite). Each backend's
 * test file calls this with a factory that gives a fresh empty root for each call.
 */
export function backendConformance(name: string, fresh: () => Promise<ConformanceFixture>, options: { manyFiles?: number } = {}): void {
  describe(`${name} backend conformance`, () => {
    it("lists an empty root as empty; puts, gets and stats an object", async () => {
      const { backend } = await fresh();
      expect(await listAll(backend)).toEqual([]);
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

    it("streams an object's bytes with read(); a missing object fails with NotFoundError", async () => {
      const { backend } = await fresh();
      // Several chunks on every backend (the local one reads 1 MiB at a time), each kept while the next arrives.
      const data = Uint8Array.from({ length: 3 * 1024 * 1024 + 17 }, (_, i) => (i * 31) % 251);
      await backend.put(ARCHIVE, data);
      const chunks: Uint8Array[] = [];
      for await (const chunk of backend.read(ARCHIVE)) chunks.push(chunk);
      expect(Buffer.concat(chunks).equals(Buffer.from(data))).toBe(true);
      await expect(
        (async () => {
          for await (const _ of backend.read(`${ARCHIVE}.siginfo`)) void _;
        })(),
      ).rejects.toBeInstanceOf(NotFoundError);
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

    it("keeps names with +, %, a space, ~ and non-ASCII letters intact through put, list, stat, get and deleteMany", async () => {
      const { backend } = await fresh();
      for (const path of ODD_NAMES) await backend.put(path, new TextEncoder().encode(path));
      const listed = await listAll(backend);
      expect(listed.map((f) => f.path)).toEqual([...ODD_NAMES].sort());
      expect((await statAll(backend, ODD_NAMES)).map(versionOf)).toEqual(ODD_NAMES.map((path) => versionOf(listed.find((f) => f.path === path))));
      for (const path of ODD_NAMES) expect(new TextDecoder().decode(await backend.get(path))).toBe(path);
      expect((await backend.deleteMany(listed)).map((o) => o.status)).toEqual(listed.map(() => "deleted"));
      expect(await listAll(backend)).toEqual([]);
      await backend.close();
    });

    describe("on a cache of many objects", () => {
      const count = options.manyFiles ?? 1200;
      const paths = manyPaths(count);
      let fixture: ConformanceFixture;
      let listed: RemoteFile[];
      beforeAll(async () => {
        fixture = await fresh();
        await mapConcurrent(paths, 16, (path, i) => fixture.backend.put(path, new Uint8Array(i % 7)));
        await fixture.backend.put("README", new TextEncoder().encode("unmanaged"));
        listed = await listAll(fixture.backend);
      });
      afterAll(() => fixture?.backend.close());

      it(`lists ${count} objects in nested directories with sizes and mtimes`, () => {
        expect(listed.map((f) => f.path)).toEqual([...paths, "README"].sort());
        const bySize = new Map(listed.map((f) => [f.path, f.size]));
        paths.forEach((path, i) => expect(bySize.get(path)).toBe(i % 7));
        for (const file of listed) expect(Math.abs(file.mtimeMs - Date.now())).toBeLessThan(600_000);
      });

      // Plans record what the listing said; apply compares it with what stat (or statMany) says now.
      it("stat agrees with the listing on size, mtime and ETag of every object", async () => {
        const stats = await statAll(fixture.backend, listed.map((f) => f.path));
        expect(stats.map(versionOf)).toEqual(listed.map(versionOf));
        listed.forEach((file, i) => expect(changeSincePlanning(file, stats[i]!), file.path).toBeUndefined());
      });

      // Apply checks a batch with statMany where the backend has it, else with a stat per file.
      it("statMany (or a stat per path) answers as stat does, in the order asked, for dense and sparse batches with absent paths", async () => {
        const { backend } = fixture;
        const statBatch = backend.statMany ? (asked: string[]) => backend.statMany!(asked) : (asked: string[]) => mapConcurrent(asked, 16, (path) => backend.stat(path));
        const absent = ["00/00/absent", `${paths[5]}.siginfo`, "zz/absent", "universal/absent"];
        for (const asked of [shuffled([...listed.map((f) => f.path), ...absent]), shuffled([...paths.filter((_, i) => i % 97 === 0), ...absent])]) {
          const many = await statBatch(asked);
          const one = await mapConcurrent(asked, 8, (path) => backend.stat(path));
          expect(many.map(versionOf)).toEqual(one.map(versionOf));
          expect(many.map((file) => file?.path)).toEqual(asked.map((path) => (absent.includes(path) ? undefined : path)));
        }
      });

      it("stopping a listing after its first batch leaves nothing running and no error; close() twice is safe", async () => {
        const baseline = openHandles();
        let batches = 0;
        for await (const batch of fixture.backend.list()) {
          expect(batch.length).toBeGreaterThan(0);
          if (++batches === 1) break;
        }
        expect(batches).toBe(1);
        // The backend is still whole: the next listing is complete.
        expect((await listAll(fixture.backend)).map(versionOf)).toEqual(listed.map(versionOf));
        await fixture.backend.close();
        await fixture.backend.close();
        expect(await handlesBeyond(baseline)).toEqual([]);
      });
    });

    it("deletes many in any order, one outcome per file in the order given, and removes only the directories emptied", async () => {
      const { backend, directories } = await fresh();
      const paths = manyPaths(30);
      await mapConcurrent(paths, 8, (path) => backend.put(path, new Uint8Array(1)));
      const keep = paths[0]!;
      const gone = paths.slice(1);
      const absent = { path: "ff/ff/does-not-exist", size: 1, mtimeMs: Date.now() };
      const asked = shuffled([...(await statAll(backend, gone)), absent]);
      const outcomes = await backend.deleteMany(asked);
      expect(outcomes.map((o) => o.path)).toEqual(asked.map((f) => f.path));
      expect(outcomes.map((o) => o.status)).toEqual(asked.map((f) => (f === absent ? "missing" : "deleted")));
      expect((await listAll(backend)).map((f) => f.path)).toEqual([keep]);
      await backend.removeEmptyDirs?.([...gone.map((p) => p.slice(0, p.lastIndexOf("/"))), "ee/never-existed"]);
      const dirs = await directories();
      const keepDirs = keep.split("/").slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join("/"));
      expect(dirs.sort()).toEqual(keepDirs.sort());
      await backend.close();
    });

    it("answers empty requests with empty answers", async () => {
      const { backend } = await fresh();
      await backend.put(ARCHIVE, new Uint8Array(1));
      expect(await backend.deleteMany([])).toEqual([]);
      expect(await backend.statMany?.([])).toEqual(backend.statMany ? [] : undefined);
      await backend.removeEmptyDirs?.([]);
      expect((await listAll(backend)).map((f) => f.path)).toEqual([ARCHIVE]);
      await backend.close();
    });

    it("keeps the root and stays usable when everything in it was deleted", async () => {
      const { backend, directories } = await fresh();
      await backend.put(ARCHIVE, new Uint8Array(2));
      expect((await backend.deleteMany(await statAll(backend, [ARCHIVE]))).map((o) => o.status)).toEqual(["deleted"]);
      await backend.removeEmptyDirs?.([ARCHIVE.slice(0, ARCHIVE.lastIndexOf("/"))]);
      expect(await directories()).toEqual([]);
      expect(await listAll(backend)).toEqual([]);
      await backend.put("README", new Uint8Array(1));
      expect((await listAll(backend)).map((f) => f.path)).toEqual(["README"]);
      await backend.close();
    });

    it("deletes nothing that was rewritten since it was expected", async () => {
      const { backend } = await fresh();
      await backend.put(ARCHIVE, new TextEncoder().encode("as planned"));
      const [planned] = await statAll(backend, [ARCHIVE]);
      await backend.put(ARCHIVE, new TextEncoder().encode("rebuilt, longer"));
      const [outcome] = await backend.deleteMany([planned!]);
      expect(outcome).toMatchObject({ path: ARCHIVE, status: "changed" });
      expect((await listAll(backend)).map((f) => f.path)).toEqual([ARCHIVE]);
      await backend.close();
    });

    // The one rule (changeSincePlanning) decides; the backend must apply it, never report "missing" for what exists.
    it("deletes an object only if changeSincePlanning finds it unchanged from the expectation", async () => {
      const { backend } = await fresh();
      const paths = manyPaths(4);
      await mapConcurrent(paths, 4, (path) => backend.put(path, new Uint8Array(3)));
      const current = await statAll(backend, paths);
      const expected: ExpectedFile[] = [
        { ...current[0]!, size: 4 },
        { ...current[1]!, mtimeMs: current[1]!.mtimeMs - 5000 },
        { ...current[2]!, etag: current[2]!.etag === undefined ? undefined : '"another-version"' },
        current[3]!,
      ];
      const want = expected.map((file, i): DeleteOutcome["status"] => (changeSincePlanning(file, current[i]!) === undefined ? "deleted" : "changed"));
      expect(want[0]).toBe("changed");
      expect(want[3]).toBe("deleted");
      const outcomes = await backend.deleteMany(expected);
      expect(outcomes.map((o) => [o.path, o.status])).toEqual(expected.map((file, i) => [file.path, want[i]]));
      outcomes.forEach((outcome, i) => outcome.status === "changed" && expect(outcome.reason).toBe(changeSincePlanning(expected[i]!, current[i]!)));
      expect((await listAll(backend)).map((f) => f.path)).toEqual(paths.filter((_, i) => want[i] === "changed").sort());
      await backend.close();
    });
  });
}
