// Apply's logic on a cache in memory: what the executor and applyPlan decide and report, without
// disk or servers (the CLI, journal and local deletion are tested on real files in apply.test.ts).
import { describe, expect, it } from "vitest";
import { ApplyStoppedError, executePlan } from "../src/apply/executor.ts";
import type { FileResult } from "../src/apply/outcome.ts";
import { type ApplyOptions, applyPlan, verdictOf } from "../src/apply/run.ts";
import { type Backend, BackendError, type RemoteFile } from "../src/backends/backend.ts";
import type { PlannedFile } from "../src/plan/plan-file.ts";
import { FaultyBackend } from "./support/faulty-backend.ts";
import { listAll } from "./support/list-all.ts";
import { type MemoryCache, PLANNED_AT, plannedMemoryCache } from "./support/plans.ts";

const CACHE_FILES = 600;
const OPTIONS: ApplyOptions = { dryRun: false, concurrency: 4, batchSize: 50 };

const pathsOf = (files: Iterable<{ path: string }>) => Array.from(files, (file) => file.path);

function without(before: readonly RemoteFile[], paths: Iterable<string>): RemoteFile[] {
  const gone = new Set(paths);
  return before.filter((file) => !gone.has(file.path));
}

describe("executePlan isolates failures and stops when nothing can work", () => {
  const run = (backend: Backend, cache: MemoryCache, results: FileResult[]) =>
    executePlan({
      backend,
      files: [...cache.plan.delete],
      earlier: new Map(),
      concurrency: 4,
      batchSize: 50,
      dryRun: false,
      clock: () => PLANNED_AT,
      beforeDelete: async () => undefined,
      onBatch: async (batch) => void results.push(...batch),
    });

  it("fails only the file that fails; the others are deleted", async () => {
    const cache = await plannedMemoryCache(CACHE_FILES);
    const deniedFile = cache.plan.delete.at(2)!;
    const backend = new FaultyBackend(cache.backend, { permanent: new Set([deniedFile.path]) });
    const results: FileResult[] = [];

    await run(backend, cache, results);

    expect(results).toHaveLength(cache.plan.delete.length);
    expect(results.filter((result) => result.outcome !== "deleted")).toEqual([{
      path: deniedFile.path,
      outcome: "failed",
      reason: "AccessDenied",
      size: deniedFile.size,
      time: PLANNED_AT.toISOString(),
    }]);
    expect(await listAll(cache.backend)).toEqual(without(cache.before, pathsOf(cache.plan.delete).filter((path) => path !== deniedFile.path)));
  });

  it("stops at the first refusal of the credentials: no further call is made", async () => {
    const cache = await plannedMemoryCache(CACHE_FILES);
    const backend = new FaultyBackend(cache.backend, { throws: new BackendError("WebDAV server refused the credentials", { kind: "auth" }) });
    const results: FileResult[] = [];

    await expect(run(backend, cache, results)).rejects.toThrow(/refused the credentials/);
    expect(backend.deleteCalls.length).toBeLessThanOrEqual(4);
    expect(results.every((result) => result.outcome === "failed")).toBe(true);
    expect(await listAll(cache.backend)).toEqual(cache.before);
  });

  it("stops when the backend keeps failing, having reported the failures and deleted nothing", async () => {
    const cache = await plannedMemoryCache(CACHE_FILES);
    const backend = new FaultyBackend(cache.backend, { throws: new Error("connect ECONNREFUSED 127.0.0.1:7480") });
    const results: FileResult[] = [];

    const running = run(backend, cache, results);
    await expect(running).rejects.toBeInstanceOf(ApplyStoppedError);
    await expect(running).rejects.toThrow("ECONNREFUSED");
    expect(results.length).toBeGreaterThan(0);
    expect(results.every((result) => result.outcome === "failed")).toBe(true);
    expect(await listAll(cache.backend)).toEqual(cache.before);
  });
});

describe("applyPlan on a cache in memory", () => {
  const apply = (cache: MemoryCache, options: Partial<ApplyOptions> = {}, earlier: ReadonlyMap<string, FileResult> = new Map(), backend: Backend = cache.backend) =>
    applyPlan({ plan: cache.plan, backend, earlier, journal: undefined, log: undefined, clock: () => PLANNED_AT, options: { ...OPTIONS, ...options } });

  it("deletes exactly the planned files, tallies what it freed, and removes the directories it emptied", async () => {
    const cache = await plannedMemoryCache(CACHE_FILES);
    const planned = pathsOf(cache.plan.delete);
    expect(planned.length).toBeGreaterThan(100);
    const dirsBefore = cache.backend.directories();

    const report = await apply(cache);

    expect(verdictOf(report)).toBe("ok");
    expect(report.deleted).toEqual(cache.plan.summary.delete);
    expect(report).toMatchObject({ missing: 0, skipped: [], failed: [], checked: planned.length, pending: planned.length });
    const after = await listAll(cache.backend);
    expect(after).toEqual(without(cache.before, planned));
    // What is left is exactly the directories of the surviving objects and their parents.
    const needed = new Set(after.flatMap((file) => file.path.split("/").slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join("/"))));
    expect(cache.backend.directories()).toEqual([...needed].sort());
    expect(dirsBefore.length).toBeGreaterThan(needed.size);
  });

  it("keeps files rewritten since planning, counts vanished ones as missing, and says so in its verdict", async () => {
    const cache = await plannedMemoryCache(CACHE_FILES);
    const [rewritten, vanished] = [cache.plan.delete.at(0)!, cache.plan.delete.at(1)!];
    await cache.backend.put(rewritten.path, new Uint8Array(rewritten.size));
    await cache.backend.deleteMany([(await cache.backend.stat(vanished.path))!]);

    const report = await apply(cache);

    expect(verdictOf(report)).toBe("skipped");
    expect(report.skipped).toEqual([{ path: rewritten.path, outcome: "skipped", reason: expect.stringContaining("ETag changed"), size: rewritten.size, time: PLANNED_AT.toISOString() }]);
    expect(report.missing).toBe(1);
    expect(report.deleted.files).toBe(cache.plan.delete.length - 2);
    expect(pathsOf(await listAll(cache.backend))).toContain(rewritten.path);
  });

  it("a dry run checks every file, deletes none and removes no directory", async () => {
    const cache = await plannedMemoryCache(CACHE_FILES);
    const dirsBefore = cache.backend.directories();

    const report = await apply(cache, { dryRun: true });

    expect(report.wouldDelete).toEqual(cache.plan.summary.delete);
    expect(report.deleted).toEqual({ files: 0, bytes: 0 });
    expect(await listAll(cache.backend)).toEqual(cache.before);
    expect(cache.backend.directories()).toEqual(dirsBefore);
  });

  it("resumes after an earlier run: what it settled is not asked again, what it skipped stays skipped", async () => {
    const cache = await plannedMemoryCache(CACHE_FILES);
    const planned: PlannedFile[] = [...cache.plan.delete];
    const result = (file: PlannedFile, outcome: FileResult["outcome"]): FileResult => ({ path: file.path, outcome, size: file.size, time: PLANNED_AT.toISOString() });
    const [deletedEarlier, skippedEarlier, failedEarlier] = [planned[0]!, planned[1]!, planned[2]!];
    await cache.backend.deleteMany([(await cache.backend.stat(deletedEarlier.path))!]);
    const earlier = new Map([deletedEarlier, skippedEarlier, failedEarlier].map((file, i) => [file.path, result(file, (["deleted", "skipped", "failed"] as const)[i]!)]));
    const recording = new FaultyBackend(cache.backend, {});

    const report = await apply(cache, {}, earlier, recording);

    expect(report.doneEarlier).toBe(1);
    expect(report.skipped).toEqual([earlier.get(skippedEarlier.path)]);
    expect(report.pending).toBe(planned.length - 2);
    expect(recording.deleteCalls.flat().sort()).toEqual(pathsOf(planned.slice(2)).sort());
    expect(pathsOf(await listAll(cache.backend))).toContain(skippedEarlier.path);
    expect(pathsOf(await listAll(cache.backend))).not.toContain(failedEarlier.path);
  });
});
