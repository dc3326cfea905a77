// diff, plan --diff and why end to end on a local cache, the digest in every plan output and in
// apply's, and progress on a terminal only.
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { run } from "../src/cli/main.ts";
import type { StoredPlan } from "../src/plan/plan-file.ts";
import { parsePlan } from "../src/plan/read-plan.ts";
import { DEMO_NOW_ISO, generatedCache } from "./support/cache.ts";
import { testIo, withoutWarnings } from "./support/io.ts";
import { DAY } from "./support/listing.ts";

const example = fileURLToPath(new URL("../policies/example.yaml", import.meta.url));
const LATER = new Date(Date.parse(DEMO_NOW_ISO) + 40 * DAY).toISOString();
let root: string;
let work: string;
let approved: StoredPlan;
let fresh: StoredPlan;
let explained: StoredPlan;

async function cli(argv: string[], options: { progress?: boolean } = {}) {
  const io = testIo({ cwd: work });
  io.progressEnabled = options.progress === true;
  const code = await run(argv, io);
  return { code, stdout: io.stdoutText, stderr: io.stderrText };
}

const read = async (file: string) => parsePlan(await readFile(join(work, file), "utf8"), file);
const planAt = (now: string, out: string, ...more: string[]) => cli(["plan", "--policy", example, "--target", root, "--now", now, "--out", out, ...more]);

/** The changes computed here from the two delete lists, independently of the diff module. */
function expectedChanges(older: StoredPlan, newer: StoredPlan) {
  const was = new Map(older.delete.map((f) => [f.path, f]));
  const now = new Map(newer.delete.map((f) => [f.path, f]));
  const changes = [
    ...newer.delete.filter((f) => !was.has(f.path)).map((f) => ({ change: "newly-deleted", path: f.path, decidedBy: f.decidedBy })),
    ...older.delete.filter((f) => !now.has(f.path)).map((f) => ({ change: "no-longer-deleted", path: f.path, decidedBy: f.decidedBy })),
    ...newer.delete.filter((f) => was.has(f.path) && was.get(f.path)!.decidedBy !== f.decidedBy).map((f) => ({
      change: "other-rule",
      path: f.path,
      decidedBy: f.decidedBy,
      previousDecidedBy: was.get(f.path)!.decidedBy,
    })),
  ];
  return changes.sort((a, b) => (a.path < b.path ? -1 : 1));
}

beforeAll(async () => {
  ({ root } = await generatedCache(3000));
  work = await mkdtemp(join(tmpdir(), "keeper-diff-why-"));
  for (const [now, out] of [[DEMO_NOW_ISO, "approved.json"], [LATER, "fresh.json"]] as const) expect((await planAt(now, out)).code).toBe(0);
  expect((await planAt(LATER, "explained.json", "--explain")).code).toBe(0);
  [approved, fresh, explained] = await Promise.all([read("approved.json"), read("fresh.json"), read("explained.json")]);
});

describe("diff OLD NEW", () => {
  it("JSON: every change, as the two delete lists say", async () => {
    const { code, stdout, stderr } = await cli(["diff", "approved.json", "fresh.json", "--format", "json"]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const diff = JSON.parse(stdout);
    const expected = expectedChanges(approved, fresh);
    expect(expected.length).toBeGreaterThan(100);
    expect(diff.changes.map(({ size: _size, ...change }: { size: number }) => change)).toEqual(expected);
    expect(diff.old.digest).toBe(approved.integrity);
    expect(diff.new.digest).toBe(fresh.integrity);
    const newly = fresh.delete.filter((f) => !approved.delete.some((g) => g.path === f.path));
    expect(diff.tallies["newly-deleted"]).toEqual({ files: newly.length, bytes: newly.reduce((sum, f) => sum + f.size, 0) });
  });

  it("text and markdown: both digests first, the tallies, and markdown within --max-chars", async () => {
    const text = await cli(["diff", "approved.json", "fresh.json"]);
    expect(text.stdout.split("\n")[0]).toBe(`Changes from plan ${approved.integrity} (approved.json) to plan ${fresh.integrity} (fresh.json)`);
    expect(text.stdout).toMatch(/newly deleted +[\d,]+ files/);
    const markdown = await cli(["diff", "approved.json", "fresh.json", "--format", "markdown", "--max-chars", "8000"]);
    expect(markdown.code).toBe(0);
    expect(markdown.stdout.length).toBeLessThanOrEqual(8000);
    expect(markdown.stdout).toContain(`\`${approved.integrity}\``);
    expect(markdown.stdout).toContain(`\`${fresh.integrity}\``);
    expect(markdown.stdout).toContain("<details><summary>Newly deleted (");
  });

  it("a plan against itself has no changes", async () => {
    const { code, stdout } = await cli(["diff", "fresh.json", "fresh.json"]);
    expect(code).toBe(0);
    expect(stdout).toContain("no changes");
  });

  it("refuses a plan edited after it was made, and a file that is no plan (exit 2)", async () => {
    const text = await readFile(join(work, "approved.json"), "utf8");
    await writeFile(join(work, "edited.json"), text.replace(/"size":\d+/, '"size":1'));
    await writeFile(join(work, "not-a-plan.json"), "{}");
    for (const [file, message] of [["edited.json", "the plan was changed after it was made"], ["not-a-plan.json", "plan format version undefined is not supported"]]) {
      const { code, stderr } = await cli(["diff", file!, "fresh.json"]);
      expect(code).toBe(2);
      expect(stderr).toContain(message);
    }
  });
});

describe("plan --diff PREVIOUS", () => {
  it("prints the changes since PREVIOUS instead of the plan, writes the fresh plan with --out, and matches diff of the two files", async () => {
    const planned = await cli(["plan", "--policy", example, "--target", root, "--now", LATER, "--out", "again.json", "--diff", "approved.json", "--format", "json"]);
    expect(withoutWarnings(planned.stderr)).toBe("");
    expect(planned.code).toBe(0);
    const again = await read("again.json");
    const inline = JSON.parse(planned.stdout);
    expect(inline.new).toMatchObject({ source: "again.json", digest: again.integrity });
    const separate = JSON.parse((await cli(["diff", "approved.json", "again.json", "--format", "json"])).stdout);
    expect(inline.changes).toEqual(separate.changes);
    expect(inline.changes.length).toBe(expectedChanges(approved, fresh).length);
  });

  it("reads PREVIOUS before listing: a plan that cannot be read is exit 2 with nothing listed", async () => {
    const { code, stderr } = await cli(["plan", "--policy", example, "--target", join(work, "no-such-cache"), "--diff", "missing.json"]);
    expect(code).toBe(2);
    expect(stderr).toContain("missing.json");
  });
});

describe("why PATH…", () => {
  const pick = () => {
    const deleted = fresh.delete.find((f) => f.rules.length > 1) ?? fresh.delete[0]!;
    const follows = fresh.delete.find((f) => f.after !== undefined)!;
    const kept = explained.keep!.find((f) => f.rules.length > 0 && f.decidedBy !== "@min-age")!;
    return { deleted, follows, kept };
  };

  it("--plan: what the plan says of each file, deleted or (with --explain) kept", async () => {
    const { deleted, follows, kept } = pick();
    const fromPlan = JSON.parse((await cli(["why", "--plan", "explained.json", deleted.path, follows.path, kept.path, "README", "--format", "json"])).stdout);
    expect(fromPlan.digest).toBe(explained.integrity);
    expect(fromPlan.answers.map((a: object) => ({ ...a, ageMs: undefined, mtime: undefined, size: undefined, asked: undefined }))).toEqual([
      { status: "deleted", path: deleted.path, rules: deleted.rules, decidedBy: deleted.decidedBy },
      { status: "deleted", path: follows.path, rules: follows.rules, decidedBy: follows.decidedBy, after: follows.after },
      { status: "kept", path: kept.path, rules: kept.rules, decidedBy: kept.decidedBy },
      { status: "unmanaged", path: "README", rules: [] },
    ].map((a) => ({ ...a, ageMs: undefined, mtime: undefined, size: undefined, asked: undefined })));
    const withoutKeep = await cli(["why", "--plan", "fresh.json", kept.path]);
    expect(withoutKeep.code).toBe(0);
    expect(withoutKeep.stdout).toContain("not deleted by this plan");
    expect(withoutKeep.stdout).toContain("--policy P --target T");
  });

  it("--policy --target: the same decisions, from the listing evaluated now, with the file's size and age", async () => {
    const { deleted, follows, kept } = pick();
    const full = join(root, kept.path);
    const { code, stdout } = await cli(["why", "--policy", example, "--target", root, "--now", LATER, deleted.path, follows.path, full, "README", "--format", "json"]);
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.digest).toBeUndefined();
    expect(report.answers.map((a: { status: string; decidedBy?: string; after?: string }) => [a.status, a.decidedBy, a.after])).toEqual([
      ["deleted", deleted.decidedBy, undefined],
      ["deleted", follows.decidedBy, follows.after],
      ["kept", kept.decidedBy, undefined],
      ["unmanaged", undefined, undefined],
    ]);
    expect(report.answers[2]).toMatchObject({ asked: full, path: kept.path, size: kept.size, mtime: kept.mtime });
    expect(report.answers[3].size).toBeGreaterThan(0);
    const text = await cli(["why", "--policy", example, "--target", root, "--now", LATER, deleted.path]);
    expect(text.stdout).toContain(`  deleted by rule ${deleted.decidedBy}`);
    expect(text.stdout).toContain(`  selected by: ${deleted.rules.join(", ")}`);
  });
});

describe("the digest travels", () => {
  it.each(["text", "markdown", "json"])("plan --out F --format %s prints the digest of F", async (format) => {
    const { code, stdout } = await planAt(LATER, `digest-${format}.json`, "--format", format);
    expect(code).toBe(0);
    const written = await read(`digest-${format}.json`);
    expect(stdout).toContain(written.integrity);
    if (format === "text") expect(stdout.split("\n")[0]).toContain(written.integrity);
  });

  it("apply prints it first and writes it first into --log; --format json carries it", async () => {
    const text = await cli(["apply", "fresh.json", "--dry-run", "--log", "apply.log"]);
    expect(text.code).toBe(0);
    expect(text.stdout.split("\n")[0]).toBe(`dry run of plan ${fresh.integrity} (made ${fresh.createdAt}, expires ${fresh.expiresAt}) to ${fresh.target}`);
    const [first] = (await readFile(join(work, "apply.log"), "utf8")).split("\n");
    expect(JSON.parse(first!)).toMatchObject({ event: "apply", plan: fresh.integrity, dryRun: true });
    const json = JSON.parse((await cli(["apply", "fresh.json", "--dry-run", "--format", "json"])).stdout);
    expect(json).toMatchObject({ digest: fresh.integrity, verdict: "ok", dryRun: true });
  });
});

describe("progress", () => {
  it("on a terminal: the listing and the evaluation, then the line cleared; none for JSON output", async () => {
    const text = await cli(["plan", "--policy", example, "--target", root, "--now", LATER], { progress: true });
    expect(text.code).toBe(0);
    expect(text.stderr).toContain(`\r\x1b[2Klisting file://${root}: `);
    expect(text.stderr).toContain("\r\x1b[2Kevaluating ");
    // The line is cleared before the warnings that planning found.
    expect(withoutWarnings(text.stderr).endsWith("\r\x1b[2K")).toBe(true);
    const json = await cli(["plan", "--policy", example, "--target", root, "--now", LATER, "--format", "json"], { progress: true });
    expect(withoutWarnings(json.stderr)).toBe("");
  });
});
