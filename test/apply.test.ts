import { existsSync } from "node:fs";
import { appendFile, mkdir, readFile, rm, truncate, utimes, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { integrityOf, type PlannedFile, serializePlan, type StoredPlan } from "../src/plan/plan-file.ts";
import { cli, emptyDirectories, listing, PLANNED_AT, type PlannedCache, plannedCache, without } from "./support/apply-fixture.ts";

const CACHE_FILES = 600;

function pathsOf(files: readonly { path: string }[]): string[] {
  return files.map((file) => file.path);
}

async function readJsonLines(file: string): Promise<Record<string, unknown>[]> {
  return (await readFile(file, "utf8"))
    .trimEnd()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Writes a plan as `plan make` would, with a correct integrity digest: only apply's own checks can catch it. */
async function writeForgedPlan(cache: PlannedCache, name: string, edit: (plan: StoredPlan) => void): Promise<void> {
  const { integrity: _, ...body } = structuredClone(cache.plan);
  edit(body as StoredPlan);
  await writeFile(join(cache.dir, name), serializePlan({ ...body, integrity: integrityOf(body) }));
}

/** Recreates a file with exactly the size and mtime the plan recorded (as a build re-uploading it would). */
async function recreate(root: string, file: PlannedFile): Promise<void> {
  const absolute = join(root, file.path);
  await mkdir(dirname(absolute), { recursive: true });
  await writeFile(absolute, "");
  await truncate(absolute, file.size);
  const mtime = new Date(file.mtime);
  await utimes(absolute, mtime, mtime);
}

describe("apply on a local cache", () => {
  it("deletes exactly the planned files, journals and logs each, and removes the directories it emptied", async () => {
    const cache = await plannedCache(CACHE_FILES);
    expect(cache.plan.delete.length).toBeGreaterThan(100);

    const result = await cli(cache.dir, ["apply", "plan.json", "--policy", "policy.yaml", "--log", "audit.jsonl"]);

    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const freed = cache.plan.delete.reduce((sum, file) => sum + file.size, 0);
    expect(result.stdout).toContain(`deleted       ${cache.plan.delete.length.toLocaleString("en-US")} files`);
    expect(cache.plan.summary.delete.bytes).toBe(freed);
    expect(await listing(cache.root)).toEqual(without(cache.before, pathsOf(cache.plan.delete)));

    // Directories whose every file was planned are gone; those with survivors stay; the root stays.
    const survivingDirs = new Set((await listing(cache.root)).map((file) => dirname(file.path)));
    const emptiedDirs = new Set(pathsOf(cache.plan.delete).map(dirname).filter((dir) => !survivingDirs.has(dir)));
    expect(emptiedDirs.size).toBeGreaterThan(0);
    for (const dir of emptiedDirs) expect(existsSync(join(cache.root, dir)), dir).toBe(false);
    expect(await emptyDirectories(cache.root)).toEqual([]);

    const audit = await readJsonLines(join(cache.dir, "audit.jsonl"));
    const deleted = audit.filter((line) => line.outcome === "deleted");
    expect(deleted.map((line) => line.path).sort()).toEqual(pathsOf(cache.plan.delete));
    expect(deleted[0]).toEqual({ path: expect.any(String), outcome: "deleted", size: expect.any(Number), time: PLANNED_AT.toISOString() });
    // Each deletion was announced in the log before it was made.
    const announced = new Map(audit.map((line, index) => [`${line.outcome} ${line.path}`, index]));
    for (const line of deleted) expect(announced.get(`deleting ${line.path}`)).toBeLessThan(announced.get(`deleted ${line.path}`)!);

    const [header, ...entries] = await readJsonLines(join(cache.dir, "plan.json.journal"));
    expect(header).toMatchObject({ journal: "sstate-keeper apply journal", version: 1, plan: cache.plan.integrity, target: cache.plan.target });
    expect(entries).toHaveLength(cache.plan.delete.length);
  });

  it("never removes the root, even when it deleted every file in it", async () => {
    const cache = await plannedCache(40, "version: 1\nguards: { min-age: 0s, max-delete-percent: 100, allow-empty: true }\nrules:\n  - name: all\n    delete: { all: true }\n");
    // Leave only the planned files (unmanaged ones are at the top or in a directory of their own), so the plan empties the whole cache.
    const planned = new Set(pathsOf(cache.plan.delete));
    for (const file of cache.before) if (!planned.has(file.path)) await rm(join(cache.root, file.path.split("/")[0]!), { recursive: true });
    const result = await cli(cache.dir, ["apply", "plan.json"]);
    expect(result.code).toBe(0);
    expect(existsSync(cache.root)).toBe(true);
    expect(await listing(cache.root)).toEqual([]);
    expect(await emptyDirectories(cache.root)).toEqual([]);
  });

  it("skips files touched or resized since planning, counts vanished ones as done, and exits 4", async () => {
    const cache = await plannedCache(CACHE_FILES);
    const [touched, resized, vanished] = cache.plan.delete as [PlannedFile, PlannedFile, PlannedFile];
    await utimes(join(cache.root, touched.path), PLANNED_AT, PLANNED_AT);
    await truncate(join(cache.root, resized.path), resized.size + 1);
    await rm(join(cache.root, vanished.path));

    const result = await cli(cache.dir, ["apply", "plan.json", "--log", "audit.jsonl"]);

    expect(result.code).toBe(4);
    expect(result.stdout).toContain(`  - ${touched.path}: mtime changed from ${touched.mtime} to ${PLANNED_AT.toISOString()}: a build used it since planning`);
    expect(result.stdout).toContain(`  - ${resized.path}: size changed from ${resized.size} to ${resized.size + 1} bytes`);
    expect(result.stdout).toMatch(/already gone +1 file\n/);
    expect(result.stdout).toMatch(/skipped +2 files/);
    expect(result.stderr).toContain("2 files skipped");
    const remaining = pathsOf(await listing(cache.root));
    expect(remaining).toContain(touched.path);
    expect(remaining).toContain(resized.path);
    expect(remaining).toEqual(pathsOf(without(cache.before, pathsOf(cache.plan.delete.slice(2)))));
    const audit = await readJsonLines(join(cache.dir, "audit.jsonl"));
    expect(audit.findLast((line) => line.path === touched.path)).toMatchObject({ outcome: "skipped", reason: expect.stringContaining("mtime changed") });
    expect(audit.findLast((line) => line.path === vanished.path)).toMatchObject({ outcome: "missing", reason: "already gone" });

    // Skipped stays skipped: even restored to its planned mtime, only a new plan may reconsider it.
    await utimes(join(cache.root, touched.path), new Date(touched.mtime), new Date(touched.mtime));
    const again = await cli(cache.dir, ["apply", "plan.json"]);
    expect(again.code).toBe(4);
    expect(again.stdout).toMatch(/deleted +0 files/);
    expect(again.stdout).toMatch(/skipped +2 files/);
    expect(again.stdout).toContain(`  - ${touched.path}: mtime changed from`);
    expect(existsSync(join(cache.root, touched.path))).toBe(true);
  });

  it("does not redo journaled work on a re-run, and without a journal counts vanished files as done", async () => {
    const cache = await plannedCache(CACHE_FILES);
    expect((await cli(cache.dir, ["apply", "plan.json"])).code).toBe(0);
    // A build re-uploads one deleted file, byte for byte as planned: the journal says its deletion is done.
    const reuploaded = cache.plan.delete[7]!;
    await recreate(cache.root, reuploaded);

    const rerun = await cli(cache.dir, ["apply", "plan.json"]);
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toMatch(/deleted +0 files, 0 B freed/);
    expect(rerun.stdout).toContain(`done earlier  ${cache.plan.delete.length.toLocaleString("en-US")} files`);
    expect(existsSync(join(cache.root, reuploaded.path))).toBe(true);
    const journal = await readJsonLines(join(cache.dir, "plan.json.journal"));
    expect(journal).toHaveLength(1 + cache.plan.delete.length);

    // With a fresh journal nothing is known: the rest is already gone, the re-uploaded file matches the plan.
    const fresh = await cli(cache.dir, ["apply", "plan.json", "--journal", "other.journal"]);
    expect(fresh.code).toBe(0);
    expect(fresh.stdout).toMatch(/deleted +1 file, /);
    expect(fresh.stdout).toMatch(new RegExp(`already gone +${(cache.plan.delete.length - 1).toLocaleString("en-US")} files`));
    expect(await listing(cache.root)).toEqual(without(cache.before, pathsOf(cache.plan.delete)));
  });

  it("--dry-run checks every file but deletes nothing and writes no journal", async () => {
    const cache = await plannedCache(CACHE_FILES);
    const touched = cache.plan.delete[3]!;
    await utimes(join(cache.root, touched.path), PLANNED_AT, PLANNED_AT);
    const touchedBefore = (await listing(cache.root)).find((file) => file.path === touched.path);

    const result = await cli(cache.dir, ["apply", "plan.json", "--dry-run", "--log", "audit.jsonl"]);

    expect(result.code).toBe(4);
    expect(result.stdout).toContain("nothing was deleted");
    expect(result.stdout).toContain(`would delete  ${(cache.plan.delete.length - 1).toLocaleString("en-US")} files`);
    expect(result.stdout).toContain(`  - ${touched.path}: mtime changed`);
    expect(result.stderr).toContain("1 files would be skipped");
    expect(await listing(cache.root)).toEqual(cache.before.map((file) => (file.path === touched.path ? touchedBefore : file)));
    expect(existsSync(join(cache.dir, "plan.json.journal"))).toBe(false);
    expect((await readJsonLines(join(cache.dir, "audit.jsonl"))).filter((line) => line.outcome === "would-delete")).toHaveLength(cache.plan.delete.length - 1);
  });

  it("repairs a journal line cut short by a crash, and refuses a damaged journal", async () => {
    const cache = await plannedCache(CACHE_FILES);
    const journalFile = join(cache.dir, "plan.json.journal");
    expect((await cli(cache.dir, ["apply", "plan.json", "--dry-run"])).code).toBe(0);
    expect((await cli(cache.dir, ["apply", "plan.json"])).code).toBe(0);
    await appendFile(journalFile, '{"path":"0c/9b/sstate:zlib:core2-64-poky-lin');

    const rerun = await cli(cache.dir, ["apply", "plan.json"]);
    expect(rerun.code).toBe(0);
    const text = await readFile(journalFile, "utf8");
    expect(text.endsWith("\n")).toBe(true);
    expect(text.split("\n").filter(Boolean).every((line) => JSON.parse(line))).toBe(true);

    await writeFile(journalFile, text.replace(/\n\{"path"/, '\n{"path" oops'));
    const damaged = await cli(cache.dir, ["apply", "plan.json"]);
    expect(damaged.code).toBe(2);
    expect(damaged.stderr).toContain("plan.json.journal:2: not valid JSON; the journal is damaged");
  });

  it("refuses a journal written for another plan", async () => {
    const first = await plannedCache(100);
    const second = await plannedCache(120);
    expect((await cli(first.dir, ["apply", "plan.json"])).code).toBe(0);
    const result = await cli(second.dir, ["apply", "plan.json", "--journal", join(first.dir, "plan.json.journal")]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`records an apply of another plan (${first.plan.integrity}), not of this one (${second.plan.integrity})`);
    expect(await listing(second.root)).toEqual(second.before);
  });
});

describe("apply refuses before deleting anything", () => {
  it("a plan edited to reach outside the root or to name unmanaged files (integrity recomputed): exit 2, tampered", async () => {
    const cache = await plannedCache(CACHE_FILES);
    const victim = cache.plan.delete[0]!;
    const name = victim.path.slice(victim.path.lastIndexOf("/") + 1);
    // Real files at every place the forged paths point to, so a wrong deletion would show.
    await writeFile(join(cache.dir, name), "outside the root");
    await writeFile(join(cache.dir, "x"), "outside the root");
    const forgeries: Record<string, string> = {
      "../x": "../x",
      [`../${name}`]: `../${name}`,
      absolute: join(cache.root, victim.path),
      unmanaged: "README",
      "through ..": `${dirname(victim.path)}/../../${victim.path}`,
    };
    for (const [what, path] of Object.entries(forgeries)) {
      await writeForgedPlan(cache, "forged.json", (plan) => (plan.delete[1] = { ...plan.delete[1]!, path }));
      const result = await cli(cache.dir, ["apply", "forged.json"]);
      expect(result.code, what).toBe(2);
      expect(result.stderr, what).toContain("refused as tampered");
      expect(result.stderr, what).toContain(JSON.stringify(path));
    }
    expect(await listing(cache.root)).toEqual(cache.before);
    expect(await readFile(join(cache.dir, name), "utf8")).toBe("outside the root");
    expect(existsSync(join(cache.dir, "forged.json.journal"))).toBe(false);
  });

  it("a plan edited by hand (integrity not recomputed): exit 2", async () => {
    const cache = await plannedCache(CACHE_FILES);
    const text = await readFile(join(cache.dir, "plan.json"), "utf8");
    await writeFile(join(cache.dir, "edited.json"), text.replace(JSON.stringify(cache.plan.delete[0]!.path), JSON.stringify(`../${cache.plan.delete[0]!.path}`)));
    const result = await cli(cache.dir, ["apply", "edited.json"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("integrity check failed");
    expect(await listing(cache.root)).toEqual(cache.before);
  });

  it("an expired plan, a changed policy, another target: exit 3 with what to do", async () => {
    const cache = await plannedCache(CACHE_FILES);
    const afterExpiry = new Date(Date.parse(cache.plan.expiresAt) + 1);
    const expired = await cli(cache.dir, ["apply", "plan.json"], afterExpiry);
    expect(expired.code).toBe(3);
    expect(expired.stderr).toContain(`the plan expired at ${cache.plan.expiresAt}`);
    expect(expired.stderr).toContain("make a new plan");

    await appendFile(join(cache.dir, "policy.yaml"), "# a reviewer's tweak\n");
    const changed = await cli(cache.dir, ["apply", "plan.json", "--policy", "policy.yaml"]);
    expect(changed.code).toBe(3);
    expect(changed.stderr).toContain("the policy has changed since the plan was made");

    await mkdir(join(cache.dir, "other-cache"));
    const elsewhere = await cli(cache.dir, ["apply", "plan.json", "--target", "other-cache"]);
    expect(elsewhere.code).toBe(3);
    expect(elsewhere.stderr).toContain(`the plan was made for ${cache.plan.target}, not for`);

    expect(await listing(cache.root)).toEqual(cache.before);
    expect(existsSync(join(cache.dir, "plan.json.journal"))).toBe(false);
  });

  it("a plan its guards refused: exit 3", async () => {
    const cache = await plannedCache(CACHE_FILES, "version: 1\nguards: { max-delete-percent: 1 }\nrules:\n  - name: expire\n    delete: { all: true, older-than: 1d }\n");
    expect(cache.plan.refused).toBe(true);
    const result = await cli(cache.dir, ["apply", "plan.json", "--target", "cache"]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain("refused by its guards (max-delete-percent:");
    expect(await listing(cache.root)).toEqual(cache.before);
  });
});
