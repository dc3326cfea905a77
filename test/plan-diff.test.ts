// diff: the changes between two plans, walked once over their path-sorted delete lists, and
// their renderings (the markdown within the comment budget, parsed as GitHub would).
import { Lexer, type Tokens } from "marked";
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { DEMO_NOW, generateCache } from "../src/demo/generate.ts";
import { comparePlans, type PlanChange } from "../src/plan/diff.ts";
import { buildPlan, type PlanFile, type StoredPlan } from "../src/plan/plan-file.ts";
import { evaluate } from "../src/plan/planner.ts";
import { PlanFileError } from "../src/plan/read-plan.ts";
import { diffJsonChunks, renderDiffMarkdown, renderDiffText } from "../src/plan/render/diff.ts";
import { type Listing, ListingBuilder } from "../src/sstate/listing.ts";
import { compareCodeUnits } from "../src/util/compare.ts";
import { DAY, listingFrom, NOW, policyFrom, sstatePath } from "./support/listing.ts";

function planOf(listing: Listing, yaml: string, now = NOW): PlanFile {
  const policy = policyFrom(yaml);
  const evaluation = evaluate({ listing, policy, now, referencedHashes: new Map() });
  return buildPlan(evaluation, {
    tool: { name: "sstate-keeper", version: "test" },
    createdAt: new Date(now),
    now: new Date(now),
    validForMs: DAY,
    target: "s3://yocto-sstate/ci",
    policy: { path: "policy.yaml", sha256: policy.sha256 },
    listing: { files: listing.count, bytes: listing.bytes, sha256: listing.sha256 },
  });
}

const zlib = sstatePath({ pn: "zlib", arch: "core2-64", task: "populate_sysroot", seed: "zlib" });
const busybox = sstatePath({ pn: "busybox", arch: "core2-64", task: "package", seed: "busybox" });
const glibc = sstatePath({ pn: "glibc", arch: "core2-64", task: "packagedata", seed: "glibc" });
const openssl = sstatePath({ pn: "openssl", arch: "cortexa57", task: "package", seed: "openssl" });
const listing = listingFrom([
  { path: zlib, age: 40 * DAY, size: 4000 },
  { path: `${zlib}.siginfo`, age: 40 * DAY, size: 40 },
  { path: busybox, age: 20 * DAY, size: 2000 },
  { path: glibc, age: 50 * DAY, size: 5000 },
  { path: openssl, age: 5 * DAY, size: 500 },
]);
const OLD_POLICY = "version: 1\nguards: { max-delete-percent: 100 }\nrules:\n  - name: expire-old\n    delete: { older-than: 30d }\n";
const NEW_POLICY = "version: 1\nguards: { max-delete-percent: 100 }\nrules:\n  - name: keep-zlib\n    keep: { pn: zlib }\n  - name: expire\n    delete: { older-than: 10d }\n";
const older = planOf(listing, OLD_POLICY);
const newer = planOf(listing, NEW_POLICY);

const summary = (change: PlanChange) => ({
  change: change.change,
  path: change.file.path,
  decidedBy: change.file.decidedBy,
  ...(change.change === "other-rule" ? { previous: change.previous.decidedBy } : {}),
});
const inPathOrder = <T extends { path: string }>(items: T[]) => [...items].sort((a, b) => compareCodeUnits(a.path, b.path));

describe("the changes between two plans", () => {
  it.each([
    { title: "a plan against itself", from: older, to: older, changes: [] },
    {
      title: "a wider policy with a keep rule",
      from: older,
      to: newer,
      changes: inPathOrder([
        { change: "no-longer-deleted", path: zlib, decidedBy: "expire-old" },
        { change: "no-longer-deleted", path: `${zlib}.siginfo`, decidedBy: "expire-old" },
        { change: "newly-deleted", path: busybox, decidedBy: "expire" },
        { change: "other-rule", path: glibc, decidedBy: "expire", previous: "expire-old" },
      ]),
    },
    {
      title: "the same, the other way round",
      from: newer,
      to: older,
      changes: inPathOrder([
        { change: "newly-deleted", path: zlib, decidedBy: "expire-old" },
        { change: "newly-deleted", path: `${zlib}.siginfo`, decidedBy: "expire-old" },
        { change: "no-longer-deleted", path: busybox, decidedBy: "expire" },
        { change: "other-rule", path: glibc, decidedBy: "expire-old", previous: "expire" },
      ]),
    },
  ])("$title", ({ from, to, changes }) => {
    const comparison = comparePlans({ source: "old.json", plan: from }, { source: "new.json", plan: to });
    expect([...comparison.changes()].map(summary)).toEqual(changes);
  });

  it("tallies files and bytes either way, per rule and per move between rules", () => {
    const { diff } = comparePlans({ source: "old.json", plan: older }, { source: "new.json", plan: newer });
    expect(diff.tallies).toEqual({ "newly-deleted": { files: 1, bytes: 2000 }, "no-longer-deleted": { files: 2, bytes: 4040 }, "other-rule": { files: 1, bytes: 5000 } });
    expect(diff.net).toEqual({ files: -1, bytes: -2040 });
    expect(diff.byRule).toEqual([
      { rule: "expire", newlyDeleted: { files: 1, bytes: 2000 }, noLongerDeleted: { files: 0, bytes: 0 } },
      { rule: "expire-old", newlyDeleted: { files: 0, bytes: 0 }, noLongerDeleted: { files: 2, bytes: 4040 } },
    ]);
    expect(diff.moves).toEqual([{ from: "expire-old", to: "expire", files: 1, bytes: 5000 }]);
    expect(diff.old).toMatchObject({ source: "old.json", digest: older.integrity, delete: { files: 3, bytes: 9040 } });
    expect(diff.new).toMatchObject({ source: "new.json", digest: newer.integrity, delete: { files: 2, bytes: 7000 } });
  });

  it("refuses a delete list out of path order (no plan is written so) rather than report a wrong diff", () => {
    const stored = JSON.parse(JSON.stringify({ ...older, delete: [...older.delete].reverse() })) as StoredPlan;
    expect(() => comparePlans({ source: "forged.json", plan: stored }, { source: "new.json", plan: newer })).toThrow(PlanFileError);
    expect(() => comparePlans({ source: "forged.json", plan: stored }, { source: "new.json", plan: newer })).toThrow(/forged.json: the files to delete are not in path order/);
  });

  it("renders text with every change marked, and JSON with every change on a line", () => {
    const comparison = comparePlans({ source: "old.json", plan: older }, { source: "new.json", plan: newer });
    const text = renderDiffText(comparison, { all: false, limit: 30 });
    expect(text.split("\n")[0]).toBe(`Changes from plan ${older.integrity} (old.json) to plan ${newer.integrity} (new.json)`);
    expect(text).toContain(`  + ${busybox}  1.95 KiB, decided by expire`);
    expect(text).toContain(`  - ${zlib}  3.91 KiB, was decided by expire-old`);
    expect(text).toContain(`  ~ ${glibc}  4.88 KiB, expire-old → expire`);
    expect(text).toMatch(/net\s+-1 files, -1.99 KiB/);
    const json = JSON.parse([...diffJsonChunks(comparison)].join(""));
    expect(json.changes).toEqual(
      [...comparison.changes()].map((c) => ({
        change: c.change,
        path: c.file.path,
        size: c.file.size,
        decidedBy: c.file.decidedBy,
        ...(c.change === "other-rule" ? { previousDecidedBy: c.previous.decidedBy } : {}),
      })),
    );
    expect(json.tallies["other-rule"]).toEqual({ files: 1, bytes: 5000 });
    expect(json.new.digest).toBe(newer.integrity);
  });

  it("says so when nothing changed", () => {
    const comparison = comparePlans({ source: "a.json", plan: older }, { source: "b.json", plan: older });
    expect(renderDiffText(comparison, { all: false, limit: 30 })).toContain("no changes: both plans delete the same files, each decided by the same rule");
    expect(renderDiffMarkdown(comparison, { maxChars: 60_000 })).toContain("No changes: both plans delete the same files");
  });
});

describe("the markdown diff of a 20k-file cache a month apart", () => {
  const builder = new ListingBuilder();
  builder.add([...generateCache({ files: 20_000, now: DEMO_NOW })]);
  const big = builder.finish();
  const example = readFileSync(new URL("../policies/example.yaml", import.meta.url), "utf8");
  const comparison = comparePlans({ source: "approved.json", plan: planOf(big, example, DEMO_NOW) }, { source: "fresh.json", plan: planOf(big, example, DEMO_NOW + 30 * DAY) });
  const tableOf = (tokens: ReturnType<Lexer["lex"]>, first: string) => tokens.find((t): t is Tokens.Table => t.type === "table" && t.header[0]!.text === first);

  it.each([60_000, 20_000, 3_000])("fits %i characters, the summary first and as many rows as fit", (maxChars) => {
    const markdown = renderDiffMarkdown(comparison, { maxChars });
    expect(comparison.diff.tallies["newly-deleted"].files).toBeGreaterThan(1_000);
    expect(markdown.length).toBeLessThanOrEqual(maxChars);
    const tokens = new Lexer({ gfm: true }).lex(markdown);
    expect(tokens[0]).toMatchObject({ type: "heading", depth: 3 });
    expect(markdown).toContain(comparison.diff.old.digest);
    expect(markdown).toContain(comparison.diff.new.digest);
    const totals = tableOf(tokens, "")!;
    expect(totals.rows.map((r) => r[0]!.text)).toEqual(["old plan deletes", "new plan deletes", "**newly deleted**", "no longer deleted", "deleted by another rule", "net"]);
    expect(tableOf(tokens, "rule")!.rows.map((r) => r[0]!.text)).toEqual(comparison.diff.byRule.map((r) => `\`${r.rule}\``));
    const shown = (markdown.match(/^\| [^|]+ \| [^|]+ \| [^|]+ \| `[0-9a-f]{8}` \|/gm) ?? []).length;
    const more = [...markdown.matchAll(/… and ([\d,]+) more in `sstate-keeper diff --format json`/g)].map((m) => Number(m[1]!.replace(/,/g, "")));
    expect(shown).toBeGreaterThan(0);
    expect(shown + more.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(
      comparison.diff.tallies["newly-deleted"].files + comparison.diff.tallies["no-longer-deleted"].files + comparison.diff.tallies["other-rule"].files,
    );
    expect(more.length).toBeGreaterThan(0);
  });
});
