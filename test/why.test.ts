// why: for each path, every rule that selected it, the decision and what decided it — from an
// evaluation of the listing, and from a plan file (with and without its keep list).
import { describe, expect, it } from "vitest";
import { buildPlan, type PlanFile } from "../src/plan/plan-file.ts";
import { evaluate, type Evaluation } from "../src/plan/planner.ts";
import { type WhyAnswer, whyFromEvaluation, whyFromPlan } from "../src/plan/why.ts";
import { DAY, listingFrom, NOW, policyFrom, sstatePath } from "./support/listing.ts";

const POLICY = `version: 1
guards: { min-age: 1h, max-delete-percent: 100 }
rules:
  - name: keep-zlib
    keep: { pn: zlib }
  - name: drop-openssl
    delete: { pn: openssl }
  - name: expire
    delete: { older-than: 30d }
`;
const zlib = sstatePath({ pn: "zlib", arch: "core2-64", task: "populate_sysroot", seed: "zlib" });
const busybox = sstatePath({ pn: "busybox", arch: "core2-64", task: "package", seed: "busybox" });
const openssl = sstatePath({ pn: "openssl", arch: "cortexa57", task: "package", seed: "openssl" });
const glibc = sstatePath({ pn: "glibc", arch: "core2-64", task: "packagedata", seed: "glibc" });
const ROOT = "/srv/sstate";
const listing = listingFrom([
  { path: zlib, age: 40 * DAY, size: 4000 },
  { path: busybox, age: 40 * DAY, size: 2000 },
  { path: `${busybox}.siginfo`, age: 40 * DAY, size: 20 },
  { path: `${busybox}.sig`, age: 5 * DAY, size: 2 },
  { path: openssl, age: 10 * 60_000, size: 500 },
  { path: glibc, age: 2 * DAY, size: 300 },
  { path: "README", age: 400 * DAY, size: 5 },
]);

function made(explainKept: boolean): { evaluation: Evaluation; plan: PlanFile } {
  const policy = policyFrom(POLICY);
  const evaluation = evaluate({ listing, policy, now: NOW, referencedHashes: new Map(), explainKept });
  const plan = buildPlan(evaluation, {
    tool: { name: "sstate-keeper", version: "test" },
    createdAt: new Date(NOW),
    now: new Date(NOW),
    validForMs: DAY,
    target: `file://${ROOT}`,
    policy: { path: "policy.yaml", sha256: policy.sha256 },
    listing: { files: listing.count, bytes: listing.bytes, sha256: listing.sha256 },
  });
  return { evaluation, plan };
}

const brief = ({ status, path, rules, decidedBy, after }: WhyAnswer) => ({ status, path, rules, decidedBy, after });
const name = (path: string) => path.slice(path.lastIndexOf("/") + 1);

/** Each question, and the answer every source that knows it must give. */
const CASES = [
  { asked: busybox, answer: { status: "deleted", path: busybox, rules: ["expire"], decidedBy: "expire", after: undefined } },
  { asked: `${busybox}.sig`, answer: { status: "deleted", path: `${busybox}.sig`, rules: [], decidedBy: "@follows-archive", after: busybox } },
  { asked: zlib, answer: { status: "kept", path: zlib, rules: ["keep-zlib", "expire"], decidedBy: "keep-zlib", after: undefined } },
  { asked: openssl, answer: { status: "kept", path: openssl, rules: ["drop-openssl"], decidedBy: "@min-age", after: undefined } },
  { asked: glibc, answer: { status: "kept", path: glibc, rules: [], decidedBy: "@default", after: undefined } },
  { asked: `${ROOT}/${busybox}`, answer: { status: "deleted", path: busybox, rules: ["expire"], decidedBy: "expire", after: undefined } },
  { asked: `file://${ROOT}/${zlib}`, answer: { status: "kept", path: zlib, rules: ["keep-zlib", "expire"], decidedBy: "keep-zlib", after: undefined } },
  { asked: name(zlib), answer: { status: "kept", path: zlib, rules: ["keep-zlib", "expire"], decidedBy: "keep-zlib", after: undefined } },
  { asked: `./${busybox}`, answer: { status: "deleted", path: busybox, rules: ["expire"], decidedBy: "expire", after: undefined } },
];
const missing = sstatePath({ pn: "gone", arch: "core2-64", task: "package", seed: "gone" });

describe("why, from a fresh evaluation", () => {
  const { evaluation, plan } = made(false);
  it.each(CASES)("$asked", ({ asked, answer }) => {
    const [found] = whyFromEvaluation(evaluation, plan, [asked], "/").answers;
    expect(brief(found!)).toEqual(answer);
  });

  it("gives size, mtime and age, says unmanaged and not listed, and answers in the order asked", () => {
    const report = whyFromEvaluation(evaluation, plan, [missing, "README", zlib], "/");
    expect(report.answers.map((a) => a.status)).toEqual(["not-listed", "unmanaged", "kept"]);
    expect(report.answers[2]).toMatchObject({ size: 4000, mtime: new Date(NOW - 40 * DAY).toISOString(), ageMs: 40 * DAY });
    expect(report.answers[1]).toMatchObject({ path: "README", size: 5, rules: [] });
    expect(report.digest).toBeUndefined();
  });

  it("takes a path relative to where it runs when it lies under a local target", () => {
    const [found] = whyFromEvaluation(evaluation, plan, [`../sstate/${busybox}`], `${ROOT}/../work`).answers;
    expect(found).toMatchObject({ status: "deleted", path: busybox });
    expect(found!.ageMs).toBe(40 * DAY);
  });
});

describe("why, from a plan file", () => {
  it.each(CASES)("made with --explain: $asked", ({ asked, answer }) => {
    const { plan } = made(true);
    expect(brief(whyFromPlan(plan, [asked], "/").answers[0]!)).toEqual(answer);
  });

  it.each(CASES.filter((c) => c.answer.status === "deleted"))("made without --explain, a deleted file: $asked", ({ asked, answer }) => {
    const { plan } = made(false);
    expect(brief(whyFromPlan(plan, [asked], "/").answers[0]!)).toEqual(answer);
  });

  it("made without --explain, says a kept file is not deleted and leaves the why to --policy", () => {
    const report = whyFromPlan(made(false).plan, [zlib, "README"], "/");
    expect(report.keepListed).toBe(false);
    expect(report.answers.map((a) => a.status)).toEqual(["not-deleted", "unmanaged"]);
  });

  it("made with --explain, says a managed name in neither list is not in its listing", () => {
    const report = whyFromPlan(made(true).plan, [missing], "/");
    expect(report.answers[0]).toMatchObject({ status: "not-listed", rules: [] });
    expect(report.digest).toMatch(/^sha256:/);
  });
});
