// Seeded fuzzing of everything a user or an attacker hands the CLI as a file: mutated policies
// through validate and plan, mutated (and re-hashed, forged) plans through apply against a real
// local cache. Every run ends with an exit code that means something, never an internal
// error, within a per-case bound; a refused plan deletes nothing, and nothing outside the cache
// root is ever deleted. SSTATE_KEEPER_FUZZ_SEED=<n> repeats or varies a run.
import { existsSync, readdirSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { run } from "../src/cli/main.ts";
import { DEMO_NOW, generateCache, type GeneratedFile } from "../src/demo/generate.ts";
import { writeCache } from "../src/demo/write.ts";
import { integrityOf, type PlanFile } from "../src/plan/plan-file.ts";
import { parseSstatePath } from "../src/sstate/name.ts";
import { DEMO_NOW_ISO } from "./support/cache.ts";
import { mutate, type Picker, picker, PLAN_TEXT_MUTATIONS, POLICY_MUTATIONS, randomValue, swapRandomNode } from "./support/fuzz-mutations.ts";
import { testIo } from "./support/io.ts";
import { seededRandom } from "./support/random.ts";

const SEED = Number(process.env.SSTATE_KEEPER_FUZZ_SEED ?? 20261121);
const POLICY_CASES = 1000;
const PLAN_CASES = 1000;
/**
 * A case takes milliseconds, the largest policy under the size limit under a second on a busy
 * machine; this bound catches a hang or a blow-up (a 10 MB policy took over 60 s) with room to spare.
 */
const CASE_BOUND_MS = 5000;
const repo = fileURLToPath(new URL("..", import.meta.url));
const SEED_POLICIES = [
  ...readdirSync(join(repo, "policies")).map((name) => join(repo, "policies", name)),
  join(repo, "test/fixtures/policies/every-problem.yaml"),
];
const HASH = "0e8813404e01ad4d8267d7d5c36ccdffdf7cfc98b6ce83aa65ad5c2baf0f520f";
const REFERENCING_POLICY = `version: 1
target: ./cache
guards: { min-age: 0s, max-delete-percent: 90, max-delete-bytes: 1TiB }
rules:
  - name: release
    keep: { hashes: hashes.txt, stamps: [stamps] }
  - name: newest
    keep: { newest: 2, per: [pn, arch, task] }
  - name: old
    delete: { older-than: 30d, kind: [archive, siginfo], pn: ["*", "!glibc*"], larger-than: 1KB }
  - name: orphans
    delete: { orphan: true }
`;

/**
 * The layout: base/tree/cache is the cache root; sstate-named sentinels lie next to it
 * (base/tree/…, base/tree/cache-sibling/…) and above it (base/…), at the cache's own relative
 * paths, so that any deletion that escapes the root, whatever the forged plan says, hits one.
 */
let base: string;
let cacheRoot: string;
let work: string;
let cacheFiles: GeneratedFile[];
let sentinels: string[];
let seedPlans: string[];

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), "keeper-fuzz-"));
  cacheRoot = join(base, "tree", "cache");
  work = await mkdtemp(join(tmpdir(), "keeper-fuzz-work-"));
  cacheFiles = [...generateCache({ files: 300, seed: 7, now: DEMO_NOW })];
  await writeCache(cacheRoot, cacheFiles);
  const managed = cacheFiles.filter((file) => parseSstatePath(file.path) !== undefined);
  const chosen = [managed[0]!, managed[Math.floor(managed.length / 2)]!, managed.at(-1)!];
  sentinels = [];
  for (const dir of [base, join(base, "tree"), join(base, "tree", "cache-sibling")]) {
    // Not the same size and mtime as in the cache: a plan re-targeted there finds them changed, whatever it names.
    await writeCache(dir, chosen.map((file) => ({ ...file, size: file.size + 1, mtimeMs: file.mtimeMs - 1000 })));
    sentinels.push(...chosen.map((file) => join(dir, file.path)));
  }
  await writeFile(join(work, "hashes.txt"), `# release\n${HASH}\n${chosen[0]!.path}\n`);
  await mkdir(join(work, "stamps", "core2-64-poky-linux", "zlib"), { recursive: true });
  await writeFile(join(work, "stamps", "core2-64-poky-linux", "zlib", `1.3.1-r0.do_package.sigdata.${HASH}`), "");
  await writeFile(join(work, "referencing.yaml"), REFERENCING_POLICY);
  await writeFile(join(work, "delete-all.yaml"), "version: 1\nguards: { min-age: 0s, allow-empty: true }\nrules:\n  - name: all\n    delete: { all: true }\n");

  seedPlans = [];
  for (const [policy, extra] of [[join(repo, "policies/example.yaml"), ["--explain"]], [join(work, "delete-all.yaml"), []]] as const) {
    const out = `seed-${seedPlans.length}.json`;
    const result = await cli(["plan", "--policy", policy, "--target", cacheRoot, "--now", DEMO_NOW_ISO, "--out", out, ...extra]);
    expect(result.code, result.stderr).toBe(0);
    seedPlans.push(await readFile(join(work, out), "utf8"));
  }
  console.log(`fuzz seed ${SEED} (set SSTATE_KEEPER_FUZZ_SEED to repeat or vary)`);
});

async function cli(argv: string[]): Promise<{ code: number; stderr: string; ms: number }> {
  const io = testIo({ cwd: work });
  const started = Date.now();
  const code = await run(argv, io);
  return { code, stderr: io.stderrText, ms: Date.now() - started };
}

/** Every file under the cache root, and every file anywhere else under base. */
function fingerprint(): { cache: string[]; outside: string[] } {
  const files = readdirSync(base, { recursive: true, withFileTypes: true })
    .filter((entry) => !entry.isDirectory())
    .map((entry) => relative(base, join(entry.parentPath, entry.name)));
  const inCache = `${relative(base, cacheRoot)}/`;
  return {
    cache: files.filter((path) => path.startsWith(inCache)).map((path) => path.slice(inCache.length)).sort(),
    outside: files.filter((path) => !path.startsWith(inCache)).sort(),
  };
}

/** Puts back the cache files a case deleted, with their sizes and mtimes. */
async function restore(removed: readonly string[]): Promise<void> {
  const wanted = new Set(removed);
  await writeCache(cacheRoot, cacheFiles.filter((file) => wanted.has(file.path)));
}

function expectOutcome(what: string, result: { code: number; stderr: string; ms: number }, allowed: readonly number[]): void {
  expect(result.stderr, what).not.toContain("internal error");
  expect(allowed, `${what}: exit ${result.code}\n${result.stderr.slice(0, 2000)}`).toContain(result.code);
  expect(result.ms, `${what} took ${result.ms} ms`).toBeLessThan(CASE_BOUND_MS);
}

describe(`fuzz (seed ${SEED})`, () => {
  it(`${POLICY_CASES} mutated policies: validate and plan end with 0, 2 or 3 and a located message`, async () => {
    const p = picker(seededRandom(SEED));
    const sources = [...(await Promise.all(SEED_POLICIES.map((file) => readFile(file, "utf8")))), REFERENCING_POLICY];
    // Huge inputs cost the parser most (up to the size limit); they are drawn a third as often.
    const heavy = ["huge-repeat", "huge-value", "deep-nesting"];
    const light = Object.keys(POLICY_MUTATIONS).filter((name) => !heavy.includes(name));
    const mutations = [...light, ...light, ...light, ...heavy];
    const before = fingerprint();
    const counts = { valid: 0, invalid: 0 };
    const started = Date.now();
    let slowest = { ms: 0, what: "" };
    for (let i = 0; i < POLICY_CASES; i++) {
      let content: string | Uint8Array = p.pick(sources);
      const applied: string[] = [];
      for (let n = 1 + p.below(3); n > 0; n--) {
        const name = p.pick(mutations);
        applied.push(name);
        content = mutate(POLICY_MUTATIONS, name, content, p);
      }
      const what = `policy case ${i} (seed ${SEED}: ${applied.join(", ")})`;
      const file = `policy-${i}.yaml`;
      await writeFile(join(work, file), content);
      const validated = await cli(["validate", file]);
      expectOutcome(`${what}: validate`, validated, [0, 2]);
      if (validated.code === 2) {
        expect(validated.stderr, what).toMatch(/^policy-\d+\.yaml:\d+:\d+: \S/);
        counts.invalid++;
      } else counts.valid++;
      const planned = await cli(["plan", "--policy", file, "--target", cacheRoot, "--now", DEMO_NOW_ISO]);
      expectOutcome(`${what}: plan`, planned, validated.code === 0 ? [0, 3] : [2]);
      if (validated.ms + planned.ms > slowest.ms) slowest = { ms: validated.ms + planned.ms, what };
      await rm(join(work, file));
    }
    console.log(`policies: ${counts.valid} valid, ${counts.invalid} invalid in ${Date.now() - started} ms; slowest ${slowest.ms} ms: ${slowest.what}`);
    expect(fingerprint(), "plan never changes the cache").toEqual(before);
    // Both sides were exercised: a fuzzer that only ever produced garbage would prove little.
    expect(counts.valid).toBeGreaterThan(POLICY_CASES / 40);
    expect(counts.invalid).toBeGreaterThan(POLICY_CASES / 2);
  }, 120_000);

  it(`${PLAN_CASES} mutated and forged plans: apply deletes nothing when it refuses, and nothing outside the root ever`, async () => {
    const p = picker(seededRandom(SEED + 1));
    const before = fingerprint();
    const originalTarget = (JSON.parse(seedPlans[0]!) as PlanFile).target;
    const counts: Record<number, number> = {};
    const started = Date.now();
    let slowest = { ms: 0, what: "" };
    for (let i = 0; i < PLAN_CASES; i++) {
      const plan = JSON.parse(p.pick(seedPlans)) as Record<string, unknown>;
      // One plan in twenty is genuine (only its layout changes): apply must still accept what plan made.
      const edits = p.chance(0.05) ? [] : Array.from({ length: 1 + p.below(3) }, () => p.pick(Object.keys(PLAN_EDITS)));
      let edited: unknown = plan;
      for (const name of edits) edited = isObject(edited) ? PLAN_EDITS[name]!(edited, p) : edited;
      const rehashed = edits.length > 0 && p.chance(0.6) && rehash(edited);
      let text: string | Uint8Array = JSON.stringify(edited, null, p.chance(0.5) ? 2 : undefined) ?? "null";
      const textMutation = edits.length > 0 && p.chance(0.15) ? p.pick(Object.keys(PLAN_TEXT_MUTATIONS)) : undefined;
      if (textMutation) text = mutate(PLAN_TEXT_MUTATIONS, textMutation, text, p);
      const what = `plan case ${i} (seed ${SEED}: ${edits.join(", ") || "genuine"}${rehashed ? ", re-hashed" : ""}${textMutation ? `, ${textMutation}` : ""})`;

      const file = `plan-${i}.json`;
      await writeFile(join(work, file), text);
      const target = (edited as { target?: unknown } | null)?.target;
      const applied = await cli(["apply", file]);
      // Exit 1 only where the plan was re-targeted somewhere that cannot be applied to (not a directory, say).
      expectOutcome(what, applied, target === originalTarget ? [0, 2, 3, 4, 5] : [0, 1, 2, 3, 4, 5]);
      counts[applied.code] = (counts[applied.code] ?? 0) + 1;
      if (edits.length === 0) expect(applied.code, `${what}: a genuine plan is applied\n${applied.stderr}`).toBe(0);
      if (applied.ms > slowest.ms) slowest = { ms: applied.ms, what };

      const after = fingerprint();
      expect(after.outside, `${what}: nothing outside the cache root changes`).toEqual(before.outside);
      for (const sentinel of sentinels) expect(existsSync(sentinel), `${what}: ${sentinel}`).toBe(true);
      const removed = before.cache.filter((path) => !after.cache.includes(path));
      if (applied.code === 2 || applied.code === 3) expect(removed, `${what}: a refused plan deletes nothing`).toEqual([]);
      for (const path of removed) expect(parseSstatePath(path), `${what}: deleted ${path}, which is not an sstate file`).toBeDefined();
      if (removed.length > 0) await restore(removed);
      await rm(join(work, file));
      await rm(join(work, `${file}.journal`), { force: true });
    }
    console.log(`plans: exit codes ${JSON.stringify(counts)} in ${Date.now() - started} ms; slowest ${slowest.ms} ms: ${slowest.what}`);
    expect(fingerprint()).toEqual(before);
    // Refusals and applies were both exercised.
    expect((counts[2] ?? 0) + (counts[3] ?? 0)).toBeGreaterThan(PLAN_CASES / 2);
    expect((counts[0] ?? 0) + (counts[4] ?? 0)).toBeGreaterThan(PLAN_CASES / 50);
  }, 120_000);
});

/** Recomputes the integrity field after an edit, as a forger would; false where the edit left nothing to hash. */
function rehash(plan: unknown): boolean {
  if (plan === null || typeof plan !== "object" || Array.isArray(plan)) return false;
  const { integrity: _, ...body } = plan as PlanFile;
  try {
    (plan as PlanFile).integrity = integrityOf(body);
    return true;
  } catch {
    return false;
  }
}

type Plan = Record<string, unknown> & { delete?: unknown; keep?: unknown };
const entries = (plan: Plan, list: "delete" | "keep") => (Array.isArray(plan[list]) ? (plan[list] as unknown[]).filter(isObject) : []);

/** Paths a forger would try: out of the root, onto the sentinels, absolute, odd, unmanaged, repeated. */
function forgedPath(p: Picker, plan: Plan): unknown {
  const some = (entries(plan, "delete")[0]?.path as string | undefined) ?? "0e/88/x";
  return p.pick([
    `../${some}`,
    `../../${some}`,
    `../cache-sibling/${some}`,
    `${cacheRoot}/${some}`,
    join(base, some),
    `/${some}`,
    `./${some}`,
    `${some.split("/")[0]}//${some.split("/").slice(1).join("/")}`,
    some.replaceAll("/", "\\"),
    `${some}\u0000`,
    `${some}/`,
    "README",
    "",
    ".",
    "..",
    `${dirname(some)}/../../../${some}`,
    String(entries(plan, "keep")[0]?.path ?? some),
    randomValue(p),
  ]);
}

function isObject(value: unknown): value is Plan {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Edits of a parsed plan, by name; each returns the edited plan (or what replaced it). */
const PLAN_EDITS: Record<string, (plan: Plan, p: Picker) => unknown> = {
  "any-node": (plan, p) => swapRandomNode(plan, p),
  path: (plan, p) => {
    const list = entries(plan, "delete");
    if (list.length > 0) p.pick(list).path = forgedPath(p, plan);
    return plan;
  },
  "file-field": (plan, p) => {
    const list = entries(plan, "delete");
    if (list.length > 0) {
      p.pick(list)[p.pick(["size", "mtime", "etag", "rules", "decidedBy", "extra"])] = p.chance(0.5) ? randomValue(p) : p.pick([0, -1, 1e300, "2020-01-01T00:00:00.000Z", "garbage", 1.5]);
    }
    return plan;
  },
  target: (plan, p) => {
    plan.target = p.pick([
      "file:///",
      `file://${base}`,
      `file://${join(base, "tree")}`,
      `file://${cacheRoot}/..`,
      `file://${cacheRoot}/`,
      `file://${join(base, "tree", "cache-sibling")}`,
      cacheRoot,
      "cache",
      `file://${join(base, "nowhere")}`,
      `file://${join(cacheRoot, String(entries(plan, "delete")[0]?.path ?? ""))}`,
      "ftp://host/sstate",
      "s3://user:secret@bucket/x",
      "http://[::1",
      "",
      randomValue(p),
    ]);
    return plan;
  },
  "format-version": (plan, p) => {
    plan.formatVersion = p.pick([0, 2, 3, "1", null, -1, 1.5, 1e9, randomValue(p)]);
    return plan;
  },
  dates: (plan, p) => {
    plan[p.pick(["expiresAt", "createdAt", "now"])] = p.pick(["2999-01-01T00:00:00.000Z", "2000-01-01T00:00:00.000Z", "yesterday", "", 0, null, randomValue(p)]);
    return plan;
  },
  "delete-list": (plan, p) => {
    const target = plan;
    const list = entries(target, "delete");
    const choice = p.below(5);
    if (choice === 0) target.delete = [];
    else if (choice === 1 && list.length > 0) target.delete = [...list, ...Array(p.pick([1, 100, 20_000])).fill(p.pick(list))];
    else if (choice === 2) target.delete = [...list, ...entries(target, "keep").slice(0, 1 + p.below(50))];
    else if (choice === 3) target.delete = randomValue(p);
    else target.delete = list.filter(() => p.chance(0.5));
    return plan;
  },
  "refused-flag": (plan, p) => {
    plan.refused = p.pick([true, false, "no", null]);
    return plan;
  },
  "add-key": (plan, p) => {
    plan[p.pick(["x", "__proto__", "integrity2", "keep", "signature"])] = randomValue(p);
    return plan;
  },
  "remove-key": (plan, p) => {
    const keys = Object.keys(plan);
    if (keys.length > 0) delete plan[p.pick(keys)];
    return plan;
  },
  "huge-string": (plan, p) => {
    plan[p.pick(["target", "createdAt", "integrity"])] = "z".repeat(p.pick([10_000, 1_000_000]));
    return plan;
  },
  "deep-nesting": (plan, p) => {
    let value: unknown = 1;
    // Deeper nesting is a text mutation: JSON.stringify itself recurses.
    for (let depth = p.pick([100, 1000, 3000]); depth > 0; depth--) value = [value];
    plan[p.pick(["summary", "guards", "delete", "policy"])] = value;
    return plan;
  },
  "whole-plan": (_plan, p) => randomValue(p),
};
