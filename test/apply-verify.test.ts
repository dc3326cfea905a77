import { describe, expect, it } from "vitest";
import { changeSincePlanning } from "../src/backends/precondition.ts";
import { backoffDelay, DEFAULT_RETRY, retrying, type RetryPolicy, withRetries } from "../src/util/retry.ts";
import { expectedOf } from "../src/apply/executor.ts";
import { pathProblem, unsafePaths, verifyPlan } from "../src/apply/verify.ts";
import type { GuardResult } from "../src/plan/guards.ts";
import { type PlanFile, type PlannedFile, planSignature } from "../src/plan/plan-file.ts";

const HASH = "0c9bd8928d96ea141f606e3372ed55f6c8b9d0e969443de97039aaf0588be7db";
const NAME = `sstate:zlib:core2-64-poky-linux:1.3.1:r0:core2-64:14:${HASH}_populate_sysroot.tar.zst`;
const ARCHIVE = `0c/9b/${NAME}`;
const MTIME = "2026-10-01T08:30:00.123Z";

function planned(overrides: Partial<PlannedFile> = {}): PlannedFile {
  return { path: ARCHIVE, size: 4096, mtime: MTIME, rules: ["expire"], decidedBy: "expire", ...overrides };
}

/** Only the fields verifyPlan reads; the rest of a plan is proven by parsePlan's schema and integrity checks. */
function planWith(overrides: Partial<PlanFile>): PlanFile {
  return {
    createdAt: "2026-11-01T12:00:00.000Z",
    expiresAt: "2026-11-08T12:00:00.000Z",
    target: "file:///srv/sstate",
    policy: { path: "policy.yaml", sha256: "a".repeat(64) },
    guards: [],
    refused: false,
    delete: [planned()],
    ...overrides,
  } as PlanFile;
}

const BEFORE_EXPIRY = { now: new Date("2026-11-02T00:00:00Z") };

describe("pathProblem", () => {
  it("accepts managed sstate files, with or without a nativelsb directory or hash directories", () => {
    for (const path of [ARCHIVE, `universal/${ARCHIVE}`, `0c/${NAME}.siginfo`, NAME, `${ARCHIVE}.sig`, `${ARCHIVE}.AbCd1234`]) {
      expect(pathProblem(path), path).toBeUndefined();
    }
  });

  it.each([
    ["../x", "'..' path segment"],
    [`../${NAME}`, "'..' path segment"],
    [`0c/../../etc/${NAME}`, "'..' path segment"],
    [`0c/./9b/${NAME}`, "'.' path segment"],
    [`/srv/sstate/${ARCHIVE}`, "absolute path"],
    [`C:/sstate/${ARCHIVE}`, "absolute path"],
    // A backslash is an ordinary character of a POSIX name: this is one name, and not an sstate one.
    [`0c\\9b\\${NAME}`, "not a managed sstate file"],
    [`0c//9b/${NAME}`, "empty path segment"],
    [`${ARCHIVE}/`, "empty path segment"],
    [`0c/9b/${NAME}\u0000.txt`, "NUL"],
    ["", "empty path"],
    ["README", "not a managed sstate file"],
    ["tools/sync-mirror.sh", "not a managed sstate file"],
    [`0c/9b/${NAME}.lock`, "not a managed sstate file"],
  ])("refuses %j (%s)", (path, problem) => {
    expect(pathProblem(path)).toContain(problem);
  });

  it("finds duplicates and every offending path", () => {
    expect(unsafePaths([ARCHIVE, "README", ARCHIVE, "../x"].map((path) => ({ path })))).toEqual([
      { path: "README", problem: expect.stringContaining("not a managed") },
      { path: ARCHIVE, problem: "listed twice" },
      { path: "../x", problem: expect.stringContaining("'..'") },
    ]);
  });
});

describe("verifyPlan", () => {
  it("passes a current plan", () => {
    expect(verifyPlan(planWith({}), { ...BEFORE_EXPIRY, targetUrl: "file:///srv/sstate", policySha256: "a".repeat(64) })).toBeUndefined();
  });

  it("rejects unsafe paths as tampered, quoting the first few and counting the rest", () => {
    const bad = ["../x", "/etc/passwd", "README", `0c/../../${NAME}`, "a\\b", "c//d", "./e"].map((path) => planned({ path }));
    const rejection = verifyPlan(planWith({ delete: [planned(), ...bad] }), BEFORE_EXPIRY);
    expect(rejection?.kind).toBe("tampered");
    expect(rejection?.message).toContain("7 planned file(s)");
    expect(rejection?.message).toContain('"../x"');
    expect(rejection?.message).toContain('"/etc/passwd"');
    expect(rejection?.message).toContain("… and 2 more");
    expect(rejection?.message).toContain("make a new plan");
  });

  it("checks paths before anything else, so a tampered plan is never reported as merely stale", () => {
    const rejection = verifyPlan(planWith({ refused: true, delete: [planned({ path: "../x" })] }), { now: new Date("2030-01-01T00:00:00Z") });
    expect(rejection?.kind).toBe("tampered");
  });

  it("rejects a refused plan as stale, naming the guard", () => {
    const guards: GuardResult[] = [{ name: "max-delete-percent", limit: "60%", value: "99%", verdict: "refused", message: "would delete 99% of the managed files (limit 60%)" }];
    const rejection = verifyPlan(planWith({ refused: true, guards }), BEFORE_EXPIRY);
    expect(rejection).toEqual({ kind: "stale", message: expect.stringContaining("max-delete-percent: would delete 99%") });
  });

  it("rejects an expired plan, saying when it expired and what to do", () => {
    expect(verifyPlan(planWith({}), { now: new Date("2026-11-08T12:00:00.000Z") })).toBeUndefined();
    const rejection = verifyPlan(planWith({}), { now: new Date("2026-11-08T12:00:00.001Z") });
    expect(rejection?.kind).toBe("stale");
    expect(rejection?.message).toMatch(/expired at 2026-11-08T12:00:00.000Z.*make a new plan/s);
  });

  it("rejects another target and a changed policy", () => {
    expect(verifyPlan(planWith({}), { ...BEFORE_EXPIRY, targetUrl: "file:///srv/other" })).toEqual({
      kind: "stale",
      message: expect.stringContaining("made for file:///srv/sstate, not for file:///srv/other"),
    });
    expect(verifyPlan(planWith({}), { ...BEFORE_EXPIRY, policySha256: "b".repeat(64) })).toEqual({ kind: "stale", message: expect.stringContaining("the policy has changed") });
    expect(verifyPlan(planWith({}), { ...BEFORE_EXPIRY, policyTargetUrl: "s3://mirror/ci" })).toEqual({ kind: "stale", message: expect.stringContaining("the policy's target is s3://mirror/ci") });
    expect(verifyPlan(planWith({}), { ...BEFORE_EXPIRY, policyTargetUrl: "file:///srv/sstate" })).toBeUndefined();
  });

  it.each(["file:///", "file:///home", "file:///srv/"])("applies a plan for %s only when the command line or the policy confirms it", (target) => {
    expect(verifyPlan(planWith({ target }), BEFORE_EXPIRY)).toEqual({ kind: "stale", message: expect.stringContaining("is a filesystem root or a top-level directory") });
    expect(verifyPlan(planWith({ target }), { ...BEFORE_EXPIRY, targetUrl: target })).toBeUndefined();
    expect(verifyPlan(planWith({ target }), { ...BEFORE_EXPIRY, policyTargetUrl: target })).toBeUndefined();
  });

  it("refuses a dependency on anything but the file's own planned archive", () => {
    const siginfo = planned({ path: `${ARCHIVE}.siginfo`, after: ARCHIVE });
    expect(verifyPlan(planWith({ delete: [planned(), siginfo] }), BEFORE_EXPIRY)).toBeUndefined();
    const notPlanned = verifyPlan(planWith({ delete: [siginfo] }), BEFORE_EXPIRY);
    expect(notPlanned).toEqual({ kind: "tampered", message: expect.stringContaining("which the plan does not delete") });
    const other = planned({ path: `0c/9b/${NAME.replace("populate_sysroot", "package")}` });
    const foreign = verifyPlan(planWith({ delete: [planned(), other, { ...siginfo, after: other.path }] }), BEFORE_EXPIRY);
    expect(foreign).toEqual({ kind: "tampered", message: expect.stringContaining("which is not this file's own archive") });
  });

  it("checks signatures with the plan key, and with --require-signed refuses what it cannot check", () => {
    const integrity = `sha256:${"c".repeat(64)}`;
    const signed = planWith({ integrity, signature: planSignature(integrity, "the-plan-key") });
    expect(verifyPlan(signed, { ...BEFORE_EXPIRY, planKey: "the-plan-key", requireSigned: true })).toBeUndefined();
    expect(verifyPlan(signed, { ...BEFORE_EXPIRY, planKey: "another-key" })).toEqual({ kind: "tampered", message: expect.stringContaining("signature does not match the plan key") });
    // A forger who recomputed the digest cannot recompute the signature.
    const forged = { ...signed, integrity: `sha256:${"d".repeat(64)}` };
    expect(verifyPlan(forged, { ...BEFORE_EXPIRY, planKey: "the-plan-key" })?.kind).toBe("tampered");
    const unsigned = planWith({ integrity });
    expect(verifyPlan(unsigned, { ...BEFORE_EXPIRY, planKey: "the-plan-key" })).toBeUndefined();
    expect(verifyPlan(unsigned, { ...BEFORE_EXPIRY, planKey: "the-plan-key", requireSigned: true })).toEqual({ kind: "tampered", message: expect.stringContaining("the plan is not signed") });
    expect(verifyPlan(signed, { ...BEFORE_EXPIRY, requireSigned: true })).toEqual({ kind: "tampered", message: expect.stringContaining("needs the plan key") });
  });

  it("refuses a plan whose digest is not the reviewed one", () => {
    const plan = planWith({ integrity: `sha256:${"c".repeat(64)}` });
    expect(verifyPlan(plan, { ...BEFORE_EXPIRY, expectDigest: plan.integrity })).toBeUndefined();
    expect(verifyPlan(plan, { ...BEFORE_EXPIRY, expectDigest: `sha256:${"e".repeat(64)}` })).toEqual({ kind: "stale", message: expect.stringContaining("this is not the plan that was reviewed") });
  });
});

describe("changeSincePlanning", () => {
  const mtimeMs = Date.parse(MTIME);

  it("accepts the file as planned", () => {
    expect(changeSincePlanning(expectedOf(planned()), { path: ARCHIVE, size: 4096, mtimeMs })).toBeUndefined();
  });

  it("reports a file that is no longer a regular file", () => {
    expect(changeSincePlanning(expectedOf(planned()), { path: ARCHIVE, size: 4096, mtimeMs, special: true })).toBe("it is no longer a regular file");
  });

  it("reports a touched file and a resized one", () => {
    expect(changeSincePlanning(expectedOf(planned()), { path: ARCHIVE, size: 4096, mtimeMs: mtimeMs + 1 })).toBe(
      "mtime changed from 2026-10-01T08:30:00.123Z to 2026-10-01T08:30:00.124Z: a build used it since planning",
    );
    expect(changeSincePlanning(expectedOf(planned()), { path: ARCHIVE, size: 4097, mtimeMs })).toContain("size changed from 4096 to 4097 bytes");
  });

  it("compares ETags instead of mtimes when the plan has one (S3 HeadObject has second precision)", () => {
    const withEtag = planned({ etag: '"abc"' });
    expect(changeSincePlanning(expectedOf(withEtag), { path: ARCHIVE, size: 4096, mtimeMs: Date.parse("2026-10-01T08:30:00.000Z"), etag: '"abc"' })).toBeUndefined();
    expect(changeSincePlanning(expectedOf(withEtag), { path: ARCHIVE, size: 4096, mtimeMs, etag: '"def"' })).toContain('ETag changed from "abc" to "def"');
  });
});

describe("retrying", () => {
  const instant: RetryPolicy = { ...DEFAULT_RETRY, sleep: async () => undefined };

  it("retries only the items handed back, then gives up after the last attempt", async () => {
    const seen: string[][] = [];
    const result = await retrying(
      ["a", "b", "c"],
      async (items) => {
        seen.push([...items]);
        return items.filter((item) => item !== "a" && (item === "c" || seen.length < 2));
      },
      instant,
    );
    expect(seen).toEqual([["a", "b", "c"], ["b", "c"], ["c"], ["c"], ["c"]]);
    expect(result).toEqual({ unsettled: ["c"], error: undefined });
  });

  it("retries thrown errors and reports the last one", async () => {
    let calls = 0;
    const recovered = await retrying(["a"], async () => (++calls < 3 ? Promise.reject(new Error("ECONNRESET")) : []), instant);
    expect(recovered).toEqual({ unsettled: [] });
    expect(calls).toBe(3);
    const failed = await retrying(["a"], async () => Promise.reject(new Error("down")), instant);
    expect(failed.unsettled).toEqual(["a"]);
    expect((failed.error as Error).message).toBe("down");
  });

  it("starts no attempt after the budget, and retries only what is transient", async () => {
    let clock = 0;
    const timed: RetryPolicy = { ...DEFAULT_RETRY, attempts: 100, budgetMs: 10_000, now: () => clock, sleep: async (ms) => void (clock += ms), random: () => 0 };
    let calls = 0;
    const slow = () => {
      calls++;
      clock += 4_000;
      return Promise.reject(new Error("timed out"));
    };
    await expect(withRetries(slow, () => true, timed)).rejects.toThrow("timed out");
    expect(calls).toBe(3);
    expect(clock).toBeLessThan(10_000 + 4_000);
    calls = 0;
    await expect(withRetries(slow, () => false, timed)).rejects.toThrow("timed out");
    expect(calls).toBe(1);
    const refused = await retrying(["a"], async () => Promise.reject(new Error("401")), instant, () => false);
    expect(refused).toMatchObject({ unsettled: ["a"] });
  });

  it("backs off exponentially, with jitter, up to the cap", () => {
    const low = { ...DEFAULT_RETRY, random: () => 0 };
    const high = { ...DEFAULT_RETRY, random: () => 0.999999 };
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, low))).toEqual([125, 250, 500, 1000]);
    expect(backoffDelay(2, high)).toBeCloseTo(500, 0);
    expect(backoffDelay(20, high)).toBeLessThanOrEqual(DEFAULT_RETRY.maxDelayMs);
  });
});
