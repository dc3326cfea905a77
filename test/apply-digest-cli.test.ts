// The digest travels through apply on a local cache: named first (on stderr when stdout is the
// JSON report), first and last in --log, and in the JSON report with the exit code it returned.
import { readFile, utimes } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cli, PLANNED_AT, plannedCache } from "./support/apply-fixture.ts";

const CACHE_FILES = 300;

async function logLines(file: string): Promise<Record<string, unknown>[]> {
  return (await readFile(file, "utf8"))
    .trimEnd()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe("apply --format json", () => {
  it("names the plan on stderr before anything, keeps stdout JSON, and --log begins and ends with its digest", async () => {
    const cache = await planned();
    const touched = cache.plan.delete[0]!;
    await utimes(join(cache.root, touched.path), PLANNED_AT, PLANNED_AT);

    const result = await cli(cache.dir, ["apply", "plan.json", "--format", "json", "--log", "audit.jsonl"]);

    expect(result.code).toBe(4);
    const [header, ...rest] = result.stderr.split("\n");
    expect(header).toBe(`applying plan ${cache.plan.integrity} (made ${cache.plan.createdAt}, expires ${cache.plan.expiresAt}) to ${cache.plan.target}`);
    expect(rest.join("\n")).toContain("1 files skipped because they changed since planning");
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ digest: cache.plan.integrity, verdict: "skipped", exitCode: 4, skipped: [{ path: touched.path }], failed: [] });
    expect(report.deleted.files).toBe(cache.plan.delete.length - 1);

    const log = await logLines(join(cache.dir, "audit.jsonl"));
    expect(log[0]).toMatchObject({ event: "apply", plan: cache.plan.integrity, dryRun: false });
    expect(log.at(-1)).toMatchObject({ event: "summary", plan: cache.plan.integrity, verdict: "skipped", deleted: report.deleted, skipped: 1, failed: 0, missing: 0 });
  });

  it("a dry run's log ends with what it would delete, for the same plan", async () => {
    const cache = await planned();

    const result = await cli(cache.dir, ["apply", "plan.json", "--dry-run", "--format", "json", "--log", "dry.jsonl"]);

    expect(result.code).toBe(0);
    expect(result.stderr).toBe(`dry run of plan ${cache.plan.integrity} (made ${cache.plan.createdAt}, expires ${cache.plan.expiresAt}) to ${cache.plan.target}\n`);
    expect(JSON.parse(result.stdout)).toMatchObject({ digest: cache.plan.integrity, verdict: "ok", exitCode: 0, wouldDelete: cache.plan.summary.delete });
    const log = await logLines(join(cache.dir, "dry.jsonl"));
    expect(log.at(-1)).toMatchObject({ event: "summary", plan: cache.plan.integrity, verdict: "ok", wouldDelete: cache.plan.summary.delete });
    expect(log.at(-1)).not.toHaveProperty("deleted");
  });
});

async function planned() {
  const cache = await plannedCache(CACHE_FILES);
  expect(cache.plan.delete.length).toBeGreaterThan(10);
  return cache;
}
