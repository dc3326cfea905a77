// `apply --format json`: the machine-readable summary a scheduled job reads instead of parsing
// text — the plan's digest first, counts and bytes, every skipped and failed file with its
// reason, the verdict and the exit code it means (the one the command returns).
import { describe, expect, it } from "vitest";
import { type ApplyOptions, applyPlan } from "../src/apply/run.ts";
import { type Backend, BackendError } from "../src/backends/backend.ts";
import { showApplyReport } from "../src/cli/views/apply.ts";
import { EXIT } from "../src/cli/io.ts";
import { FaultyBackend } from "./support/faulty-backend.ts";
import { testIo } from "./support/io.ts";
import { type MemoryCache, PLANNED_AT, plannedMemoryCache } from "./support/plans.ts";

const CACHE_FILES = 400;
const OPTIONS: ApplyOptions = { dryRun: false, concurrency: 2, batchSize: 50 };

interface Scenario {
  title: string;
  /** Changes the cache after planning; returns the backend apply uses. */
  arrange(cache: MemoryCache): Promise<Backend>;
  options?: Partial<ApplyOptions>;
  verdict: string;
  exitCode: number;
  skipped: number;
  failed: number;
}

const SCENARIOS: Scenario[] = [
  { title: "everything deleted", arrange: async (cache) => cache.backend, verdict: "ok", exitCode: EXIT.ok, skipped: 0, failed: 0 },
  {
    title: "one file rewritten since planning",
    arrange: async (cache) => {
      const rewritten = cache.plan.delete.at(3)!;
      await cache.backend.put(rewritten.path, new Uint8Array(rewritten.size));
      return cache.backend;
    },
    verdict: "skipped",
    exitCode: EXIT.skipped,
    skipped: 1,
    failed: 0,
  },
  {
    title: "one deletion refused",
    arrange: async (cache) => new FaultyBackend(cache.backend, { permanent: new Set([cache.plan.delete.at(5)!.path]) }),
    verdict: "failed",
    exitCode: EXIT.failed,
    skipped: 0,
    failed: 1,
  },
  {
    title: "the server refusing the credentials before any deletion",
    arrange: async (cache) => new FaultyBackend(cache.backend, { throws: new BackendError("S3 endpoint http://127.0.0.1:7480 refused the credentials (DeleteObjects)", { kind: "auth" }) }),
    // One batch in flight: its files failed, none was attempted after it.
    options: { concurrency: 1 },
    verdict: "stopped",
    exitCode: EXIT.runtime,
    skipped: 0,
    failed: OPTIONS.batchSize,
  },
  { title: "a dry run", arrange: async (cache) => cache.backend, options: { dryRun: true }, verdict: "ok", exitCode: EXIT.ok, skipped: 0, failed: 0 },
];

describe("apply --format json", () => {
  it.each(SCENARIOS)("$title: verdict $verdict, exit $exitCode", async ({ arrange, options, verdict, exitCode, skipped, failed }) => {
    const cache = await plannedMemoryCache(CACHE_FILES);
    const backend = await arrange(cache);
    const dryRun = options?.dryRun ?? false;
    const report = await applyPlan({ plan: cache.plan, backend, earlier: new Map(), journal: undefined, log: undefined, clock: () => PLANNED_AT, options: { ...OPTIONS, ...options } });
    const io = testIo();

    const code = showApplyReport(io, report, { source: "plan.json", journalPath: "plan.json.journal", format: "json" });

    expect(code).toBe(exitCode);
    const json = JSON.parse(io.stdoutText);
    // The digest the reviewer approved comes first, as in the text header.
    expect(Object.keys(json)[0]).toBe("digest");
    expect(json).toMatchObject({ digest: cache.plan.integrity, target: cache.plan.target, dryRun, verdict, exitCode, planned: cache.plan.summary.delete });
    expect(json.skipped).toHaveLength(skipped);
    expect(json.failed).toHaveLength(failed);
    for (const file of [...json.skipped, ...json.failed]) expect(file).toMatchObject({ path: expect.any(String), reason: expect.any(String), size: expect.any(Number) });
    if (dryRun) expect(json).toMatchObject({ wouldDelete: cache.plan.summary.delete, deleted: { files: 0, bytes: 0 } });
    else expect(json.journal).toBe("plan.json.journal");
    if (verdict === "stopped") expect(json.stopped).toContain("refused the credentials");
    if (verdict === "ok" && !dryRun) expect(json.deleted).toEqual(cache.plan.summary.delete);
    // Deleted, already gone, skipped and failed account for every planned file a finished run dealt with.
    if (verdict !== "stopped") expect(json.deleted.files + json.wouldDelete.files + json.missing + json.skipped.length + json.failed.length).toBe(cache.plan.delete.length);
  });
});
