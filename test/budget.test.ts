import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DEMO_NOW, generateCache } from "../src/demo/generate.ts";
import { evaluate, FOLLOWS_ARCHIVE } from "../src/plan/planner.ts";
import type { UseEvidence } from "../src/policy/selectors/selector.ts";
import { listingOf } from "../src/sstate/listing.ts";
import { KIND } from "../src/sstate/name.ts";
import { DAY, deletedDecisions, deletedPaths, HOUR, listingFrom, NOW, policyFrom, sstatePath, type TestFile } from "./support/listing.ts";

/** An archive of `pn`'s do_package with its companions, all `age` old. */
function packageFiles(pn: string, age: number, size: number, companions: readonly string[] = [".siginfo"]): TestFile[] {
  const path = sstatePath({ pn, arch: "core2-64", task: "package", seed: pn });
  return [{ path, age, size }, ...companions.map((ext) => ({ path: `${path}${ext}`, age, size: 10 }))];
}
const archive = (pn: string) => sstatePath({ pn, arch: "core2-64", task: "package", seed: pn });

function usesOf(latest: Record<string, number>): UseEvidence {
  return { latestUse: (path) => latest[path] };
}

function plan(yaml: string, files: readonly TestFile[], uses?: UseEvidence) {
  return evaluate({ listing: listingFrom(files), policy: policyFrom(yaml), now: NOW, referencedHashes: new Map(), explainKept: true, ...(uses ? { uses } : {}) });
}

const BUDGET_1000 = `version: 1
rules:
  - name: budget
    delete: { over-budget: 1000B }
`;

describe("over-budget: the least recently used go until the managed files fit", () => {
  // Each archive is 400 B, each siginfo 10 B: three packages are 1230 B managed.
  const three = [...packageFiles("m4", 30 * DAY, 400), ...packageFiles("ed", 20 * DAY, 400), ...packageFiles("zlib", 10 * DAY, 400)];

  it.each([
    { case: "the oldest archive goes first", files: three, budget: "1000B", deleted: [archive("m4")] },
    { case: "more go until it fits (last use, not path, orders them)", files: three, budget: "500B", deleted: [archive("ed"), archive("m4")].sort() },
    { case: "nothing goes when the cache fits already", files: three, budget: "1230B", deleted: [] },
    {
      case: "equal last use: the smaller path goes first",
      files: [...packageFiles("m4", 5 * DAY, 400), ...packageFiles("ed", 5 * DAY, 400), ...packageFiles("zlib", 5 * DAY, 400)],
      budget: "1000B",
      deleted: [[archive("m4"), archive("ed"), archive("zlib")].sort()[0]!],
    },
  ])("$case", ({ files, budget, deleted }) => {
    const evaluation = plan(BUDGET_1000.replace("1000B", budget), files);
    expect(deletedPaths(evaluation)).toEqual(deleted);
    expect(evaluation.budgets).toHaveLength(1);
    expect(evaluation.budgets[0]!.shortfallBytes).toBe(0);
  });

  it("a use the evidence records makes an old archive recent: the next least recently used goes instead", () => {
    const evaluation = plan(BUDGET_1000, three, usesOf({ [archive("m4")]: NOW - DAY }));
    expect(deletedPaths(evaluation)).toEqual([archive("ed")]);
  });

  it("a use of a companion counts as a use of its archive", () => {
    const evaluation = plan(BUDGET_1000, three, usesOf({ [`${archive("m4")}.siginfo`]: NOW - DAY }));
    expect(deletedPaths(evaluation)).toEqual([archive("ed")]);
  });

  it(".sig and .done follow their archive and their bytes count; .siginfo stays for orphan rules", () => {
    // m4 with .sig/.done is 400 + 3 × 10 B; deleting it with its .sig and .done frees 420 B.
    const files = [...packageFiles("m4", 30 * DAY, 400, [".siginfo", ".sig", ".done"]), ...packageFiles("ed", 20 * DAY, 400), ...packageFiles("zlib", 10 * DAY, 400)];
    const evaluation = plan(BUDGET_1000.replace("1000B", "830B"), files);
    expect(deletedDecisions(evaluation)).toEqual([
      { path: archive("m4"), rules: ["budget"], decidedBy: "budget" },
      { path: `${archive("m4")}.done`, rules: [], decidedBy: FOLLOWS_ARCHIVE, after: archive("m4") },
      { path: `${archive("m4")}.sig`, rules: [], decidedBy: FOLLOWS_ARCHIVE, after: archive("m4") },
    ]);
    expect(evaluation.budgets[0]).toMatchObject({ beforeBytes: 1250, afterBytes: 830, shortfallBytes: 0 });
  });

  it("a companion is never taken on its own while its archive is listed", () => {
    const files = [...packageFiles("m4", 1 * DAY, 400), { path: `${archive("m4")}.siginfo`, age: 90 * DAY, size: 10 }].filter((f, i, all) => all.findIndex((g) => g.path === f.path) === i);
    const evaluation = plan(BUDGET_1000.replace("1000B", "405B"), files);
    expect(deletedPaths(evaluation)).toEqual([archive("m4")]);
  });

  it("keep rules win: a kept archive is never taken, the next least recently used goes", () => {
    const yaml = `version: 1
rules:
  - name: keep-m4
    keep: { pn: m4 }
  - name: budget
    delete: { over-budget: 500B }
`;
    const evaluation = plan(yaml, three);
    expect(deletedPaths(evaluation)).toEqual([archive("ed"), archive("zlib")].sort());
    expect(evaluation.budgets[0]).toMatchObject({ afterBytes: 430, shortfallBytes: 0 });
  });

  it("min-age wins: a young file is never taken, and the shortfall is reported", () => {
    const files = [...packageFiles("m4", 30 * DAY, 400), ...packageFiles("zlib", 10 * 60_000, 400)];
    const evaluation = plan(BUDGET_1000.replace("1000B", "100B"), files);
    expect(deletedPaths(evaluation)).toEqual([archive("m4")]);
    expect(evaluation.budgets[0]).toMatchObject({ beforeBytes: 820, afterBytes: 420, shortfallBytes: 320 });
  });

  it("what earlier rules delete counts: the budget takes only what is still over", () => {
    const yaml = `version: 1
rules:
  - name: old
    delete: { older-than: 25d }
  - name: budget
    delete: { over-budget: 500B }
`;
    const evaluation = plan(yaml, three);
    expect(deletedDecisions(evaluation).map((d) => [d.path, d.decidedBy])).toEqual(
      [
        [archive("m4"), "old"],
        [`${archive("m4")}.siginfo`, "old"],
        [archive("ed"), "budget"],
      ].sort((a, b) => (a[0]! < b[0]! ? -1 : 1)),
    );
  });

  it("the rule's other selectors limit what it may take", () => {
    const yaml = `version: 1
rules:
  - name: budget
    delete: { pn: zlib, over-budget: 100B }
`;
    const evaluation = plan(yaml, three);
    expect(deletedPaths(evaluation)).toEqual([archive("zlib")]);
    expect(evaluation.budgets[0]).toMatchObject({ afterBytes: 830, shortfallBytes: 730 });
  });

  it("an unmeetable budget is reported; budget-must-fit refuses the plan, without it the plan is not refused", () => {
    const keepAll = (guard: string) =>
      `version: 1
${guard}rules:
  - name: keep-ed
    keep: { pn: ed }
  - name: budget
    delete: { over-budget: 100B }
`;
    const allowed = plan(keepAll(""), three);
    // ed's 410 B are kept by the rule, the m4 and zlib siginfo (20 B) are not the budget's to take.
    expect(allowed.budgets[0]).toMatchObject({ rule: "budget", limitBytes: 100, beforeBytes: 1230, afterBytes: 430, shortfallBytes: 330 });
    expect(allowed.refused).toBe(false);
    expect(allowed.guards.find((g) => g.name === "budget-must-fit")).toMatchObject({ verdict: "ok", value: "330 B over" });

    const guarded = plan(keepAll("guards: { budget-must-fit: true }\n"), three);
    expect(deletedPaths(guarded)).toEqual(deletedPaths(allowed));
    expect(guarded.refused).toBe(true);
    const guard = guarded.guards.find((g) => g.name === "budget-must-fit")!;
    expect(guard.verdict).toBe("refused");
    expect(guard.message).toContain("330 B over its budget of 100 B");
  });

  it("a plan without a budget rule has no budget guard and no budgets", () => {
    const evaluation = plan("version: 1\nrules:\n  - name: old\n    delete: { older-than: 25d }\n", three);
    expect(evaluation.budgets).toEqual([]);
    expect(evaluation.guards.map((g) => g.name)).not.toContain("budget-must-fit");
  });

  it("temp leftovers and companions without an archive are units of their own", () => {
    const temp = `${archive("m4")}.Xy12abCd`;
    const lonely = `${sstatePath({ pn: "ed", arch: "core2-64", task: "compile", seed: "c" })}.siginfo`;
    const files = [{ path: temp, age: 40 * DAY, size: 300 }, { path: lonely, age: 35 * DAY, size: 300 }, ...packageFiles("zlib", 30 * DAY, 400)];
    const evaluation = plan(BUDGET_1000.replace("1000B", "500B"), files);
    expect(deletedPaths(evaluation)).toEqual([lonely, temp].sort());
  });
});

/**
 * The budget on a generated cache against a straightforward computation: what the same policy
 * without the budget leaves undecided, grouped into archives with their .sig/.done by path
 * arithmetic, sorted by the latest mtime or use of the group, taken until it fits.
 */
describe("over-budget on a generated cache", () => {
  const listing = listingOf([...generateCache({ files: 20_000, now: DEMO_NOW })]);
  const files = Array.from({ length: listing.count }, (_, i) => ({ path: listing.path(i), size: listing.sizes[i]!, mtimeMs: listing.mtimes[i]!, managed: listing.kinds[i] !== KIND.unmanaged }));
  const base = `version: 1
guards: { min-age: 2d }
rules:
  - name: keep-lic
    keep: { task: populate_lic }
  - name: old-siginfo
    delete: { suffix: .tar.zst.siginfo, older-than: 100d }
`;
  const budgetRule = (bytes: number) => `  - name: budget\n    delete: { over-budget: ${bytes}B }\n`;
  // Every 7th archive was fetched lately: recently used although its mtime is old.
  const recentUse = new Map<string, number>();
  files.forEach((f, index) => {
    if (index % 7 === 0 && f.path.endsWith(".tar.zst")) recentUse.set(f.path, DEMO_NOW - 3 * HOUR);
  });
  const uses: UseEvidence = { latestUse: (path) => recentUse.get(path) };
  const run = (yaml: string) => evaluate({ listing, policy: policyFrom(yaml), now: DEMO_NOW, referencedHashes: new Map(), uses, explainKept: true });

  function expectedDeletions(limit: number): { deleted: Set<string>; shortfall: number } {
    const baseline = run(base);
    const decided = new Map<string, string>();
    for (const i of baseline.kept!) decided.set(listing.path(i), baseline.decidedBy(i));
    const deleted = new Set(Array.from(baseline.deleted, (i) => listing.path(i)));
    const managed = files.filter((f) => f.managed);
    const byPath = new Map(managed.map((f) => [f.path, f]));
    const lastUse = (path: string) => Math.max(byPath.get(path)!.mtimeMs, recentUse.get(path) ?? 0);
    let left = managed.filter((f) => !deleted.has(f.path)).reduce((sum, f) => sum + f.size, 0);
    const companionOf = (path: string) => [".siginfo", ".sig", ".done"].find((ext) => path.endsWith(ext) && byPath.has(path.slice(0, -ext.length)));
    const units = managed
      .filter((f) => decided.get(f.path) === "@default" && DEMO_NOW - f.mtimeMs >= 2 * DAY && companionOf(f.path) === undefined)
      .map((f) => {
        const followers = [".sig", ".done"].map((ext) => f.path + ext).filter((p) => decided.get(p) === "@default");
        const used = Math.max(lastUse(f.path), ...[".siginfo", ".sig", ".done"].map((ext) => f.path + ext).filter((p) => byPath.has(p)).map(lastUse));
        return { paths: [f.path, ...followers], bytes: [f.path, ...followers].reduce((sum, p) => sum + byPath.get(p)!.size, 0), used };
      })
      .sort((a, b) => a.used - b.used || (a.paths[0]! < b.paths[0]! ? -1 : 1));
    for (const unit of units) {
      if (left <= limit) break;
      for (const p of unit.paths) deleted.add(p);
      left -= unit.bytes;
    }
    return { deleted, shortfall: Math.max(0, left - limit) };
  }

  const managedBytes = files.filter((f) => f.managed).reduce((sum, f) => sum + f.size, 0);
  // Keep rules, min-age and siginfo the budget leaves hold about half the generated cache.
  it.each([
    { case: "a budget of 80% of the cache", fraction: 0.8 },
    { case: "a budget of 60% of the cache", fraction: 0.6 },
    { case: "a budget below what keep rules and min-age hold", fraction: 0.1 },
  ])("$case: exactly the least recently used needed to fit, never a kept file", ({ fraction }) => {
    const limit = Math.round(managedBytes * fraction);
    const evaluation = run(base + budgetRule(limit));
    const expected = expectedDeletions(limit);
    const actual = Array.from(evaluation.deleted, (i) => listing.path(i));
    expect(actual.length).toBeGreaterThan(0);
    expect(new Set(actual)).toEqual(expected.deleted);
    expect(evaluation.budgets[0]!.shortfallBytes).toBe(expected.shortfall);
    const baseline = run(base);
    const keptByRuleOrAge = new Set(Array.from(baseline.kept!, (i) => i).filter((i) => baseline.decidedBy(i) !== "@default").map((i) => listing.path(i)));
    expect(actual.filter((p) => keptByRuleOrAge.has(p))).toEqual([]);
    if (fraction >= 0.6) expect(expected.shortfall).toBe(0);
    else expect(expected.shortfall).toBeGreaterThan(0);
  });
});

describe("policies/multi-branch-ci.yaml", () => {
  const preset = readFileSync(new URL("../policies/multi-branch-ci.yaml", import.meta.url), "utf8");
  const listing = listingOf([...generateCache({ files: 20_000, now: DEMO_NOW })]);
  // One build a day ago used every 10th archive's task hash; one 20 days ago (outside the 14-day window) every 10th other.
  const hashesOf = (pick: (i: number) => boolean) => {
    const hashes = new Set<string>();
    for (let i = 0; i < listing.count; i++) if (listing.kinds[i] === KIND.archive && pick(i)) hashes.add(listing.hash(i));
    return hashes;
  };
  const recent = hashesOf((i) => i % 10 === 0);
  const builds = new Map([["", [{ publishedAt: DEMO_NOW - DAY, hashes: recent }, { publishedAt: DEMO_NOW - 20 * DAY, hashes: hashesOf((i) => i % 10 === 5) }]]]);

  it("keeps everything a build of the last 14 days used, and fits the rest in the budget, least recently used first", () => {
    const policy = policyFrom(preset.replace("over-budget: 2TiB", "over-budget: 15GiB"));
    const evaluation = evaluate({ listing, policy, now: DEMO_NOW, referencedHashes: new Map(), builds, explainKept: true });
    const deleted = Array.from(evaluation.deleted);
    expect(deleted.filter((i) => recent.has(listing.hash(i)))).toEqual([]);
    expect(deleted.some((i) => evaluation.decidedBy(i) === "fit-budget")).toBe(true);
    expect(evaluation.budgets[0]).toMatchObject({ rule: "fit-budget", shortfallBytes: 0 });
    expect(evaluation.budgets[0]!.afterBytes).toBeLessThanOrEqual(15 * 1024 ** 3);
    // In last-use order: every archive the budget could have taken but left was used no earlier than every one it took.
    const archiveOf = listing.archiveIndexes();
    const unitUse = Float64Array.from(listing.mtimes);
    for (let i = 0; i < listing.count; i++) if (archiveOf[i]! >= 0) unitUse[archiveOf[i]!] = Math.max(unitUse[archiveOf[i]!]!, listing.mtimes[i]!);
    const taken = deleted.filter((i) => evaluation.decidedBy(i) === "fit-budget" && listing.kinds[i] === KIND.archive);
    const left = Array.from(evaluation.kept!).filter((i) => evaluation.decidedBy(i) === "@default" && listing.kinds[i] === KIND.archive && DEMO_NOW - listing.mtimes[i]! >= 6 * HOUR);
    expect(taken.length).toBeGreaterThan(100);
    expect(left.length).toBeGreaterThan(100);
    expect(Math.min(...left.map((i) => unitUse[i]!))).toBeGreaterThanOrEqual(Math.max(...taken.map((i) => unitUse[i]!)));
  });
});
