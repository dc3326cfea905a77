import { hasValidSignature, type PlanFile } from "../plan/plan-file.ts";
import { archivePathOf, SstateNames } from "../sstate/name.ts";

/**
 * Why a plan is not applied. `tampered`: it could not have come from `sstate-keeper plan`
 * (invalid input, exit 2). `stale`: it is genuine but no longer describes what should happen
 * (refused, exit 3). Either way nothing is deleted.
 */
export interface Rejection {
  kind: "tampered" | "stale";
  message: string;
}

/** What the run is about to act on; each is compared with what the plan recorded. */
export interface ApplyExpectations {
  now: Date;
  /** Normalised URL of `--target`, when given (without it the plan's own target is used). */
  targetUrl?: string;
  /** sha256 of the `--policy` file, when given. */
  policySha256?: string;
  /** Normalised URL of the `--policy` file's `target:`, when it has one. */
  policyTargetUrl?: string;
  /** The plan key (SSTATE_KEEPER_PLAN_KEY), when the environment has it. */
  planKey?: string;
  /** `--require-signed`: only a plan signed with the plan key is applied. */
  requireSigned?: boolean;
  /** `--expect-digest`: the digest of the plan that was reviewed. */
  expectDigest?: string;
}

/** Offending paths quoted in the message; the rest are counted. */
const SHOWN_PATHS = 5;
const MAKE_NEW_PLAN = "make a new plan with 'sstate-keeper plan --out …', review it and apply that";

/** Every check that must pass before the first deletion. Pure: no I/O, no clock. */
export function verifyPlan(plan: PlanFile, expected: ApplyExpectations): Rejection | undefined {
  const names = new SstateNames();
  const offending = [...unsafePaths(plan.delete, names), ...unsafeDependencies(plan, names)];
  if (offending.length > 0) {
    const shown = offending.slice(0, SHOWN_PATHS).map(({ path, problem }) => `\n  ${JSON.stringify(path)}: ${problem}`);
    const more = offending.length > SHOWN_PATHS ? `\n  … and ${offending.length - SHOWN_PATHS} more` : "";
    return {
      kind: "tampered",
      message:
        `refused as tampered: ${offending.length} planned file(s) are not what 'sstate-keeper plan' writes (managed sstate files inside the target root, each depending only on its own planned archive):${
          shown.join("")
        }${more}\nNothing was deleted; ${MAKE_NEW_PLAN}.`,
    };
  }
  const authenticity = authenticityProblem(plan, expected);
  if (authenticity) return authenticity;
  if (expected.expectDigest !== undefined && expected.expectDigest !== plan.integrity) {
    return {
      kind: "stale",
      message:
        `this is not the plan that was reviewed: its digest is ${plan.integrity}, --expect-digest says ${expected.expectDigest}. Nothing was deleted; apply the reviewed plan file, or review this one and pass its digest.`,
    };
  }
  if (plan.refused) {
    const refusals = plan.guards.filter((guard) => guard.verdict === "refused").map((guard) => `${guard.name}: ${guard.message}`);
    return {
      kind: "stale",
      message: `the plan was refused by its guards (${refusals.join("; ")}); a refused plan is never applied. Fix the policy or its guard limits, then ${MAKE_NEW_PLAN}.`,
    };
  }
  if (expected.now.getTime() > Date.parse(plan.expiresAt)) {
    return {
      kind: "stale",
      message:
        `the plan expired at ${plan.expiresAt} (made ${plan.createdAt}): builds have used and written the cache since it was reviewed, so it no longer says what the policy would delete now. Nothing was deleted; ${MAKE_NEW_PLAN} (plan --valid-for sets how long plans stay valid).`,
    };
  }
  if (expected.targetUrl !== undefined && expected.targetUrl !== plan.target) {
    return {
      kind: "stale",
      message:
        `the plan was made for ${plan.target}, not for ${expected.targetUrl}: its paths, sizes and mtimes describe another cache. Nothing was deleted; apply it without --target (to the cache it was made for), or make a new plan for ${expected.targetUrl} with 'sstate-keeper plan --target …', review it and apply that.`,
    };
  }
  if (expected.targetUrl === undefined && expected.policyTargetUrl !== undefined && expected.policyTargetUrl !== plan.target) {
    return {
      kind: "stale",
      message: `the plan is for ${plan.target}, but the policy's target is ${expected.policyTargetUrl}. Nothing was deleted; ${MAKE_NEW_PLAN}.`,
    };
  }
  if (expected.targetUrl === undefined && expected.policyTargetUrl === undefined && isTooWideTarget(plan.target)) {
    return {
      kind: "stale",
      message:
        `the plan's target ${plan.target} is a filesystem root or a top-level directory: a plan that reaches that far is only applied when the target is confirmed by --target (or by the 'target:' of the --policy file). Nothing was deleted.`,
    };
  }
  if (expected.policySha256 !== undefined && expected.policySha256 !== plan.policy.sha256) {
    return {
      kind: "stale",
      message: `the policy has changed since the plan was made (the plan was made from ${plan.policy.path} with sha256 ${plan.policy.sha256.slice(0, 12)}…, the given policy has ${
        expected.policySha256.slice(0, 12)
      }…): the reviewed plan no longer shows what the policy says. Nothing was deleted; ${MAKE_NEW_PLAN}.`,
    };
  }
  return undefined;
}

/**
 * A signed plan must carry the signature of the plan key; with --require-signed an unsigned plan
 * (or no key to check it with) is refused too. Either way the plan cannot be proven to come
 * from `sstate-keeper plan` with the key: it is treated as tampered.
 */
function authenticityProblem(plan: PlanFile, expected: ApplyExpectations): Rejection | undefined {
  const refuse = (why: string): Rejection => ({ kind: "tampered", message: `refused: ${why}. Nothing was deleted; ${MAKE_NEW_PLAN}.` });
  if (expected.planKey !== undefined && plan.signature !== undefined && !hasValidSignature(plan, expected.planKey)) {
    return refuse("the plan's signature does not match the plan key (SSTATE_KEEPER_PLAN_KEY): it was changed after it was made, or made with another key");
  }
  if (!expected.requireSigned) return undefined;
  if (expected.planKey === undefined) return refuse("--require-signed needs the plan key in SSTATE_KEEPER_PLAN_KEY to check the signature");
  if (plan.signature === undefined) return refuse("--require-signed, and the plan is not signed (make plans with SSTATE_KEEPER_PLAN_KEY set)");
  return undefined;
}

/** `file:///`, `file:///srv`: a plan whose target is that wide could name files all over the disk. */
function isTooWideTarget(target: string): boolean {
  if (!target.startsWith("file:")) return false;
  const segments = new URL(target).pathname.split("/").filter((segment) => segment !== "");
  return segments.length < 2;
}

/** Every `after` must name the planned archive of the file itself, as `plan` writes it. */
function unsafeDependencies(plan: PlanFile, names: SstateNames): { path: string; problem: string }[] {
  const plannedArchives = new Set<string>();
  for (const file of plan.delete) if (names.parse(file.path)?.kind === "archive") plannedArchives.add(file.path);
  const offending: { path: string; problem: string }[] = [];
  for (const { path, after } of plan.delete) {
    if (after === undefined) continue;
    const name = names.parse(path);
    if (name === undefined || archivePathOf(path, name) !== after) offending.push({ path, problem: `'after' names ${JSON.stringify(after)}, which is not this file's own archive` });
    else if (!plannedArchives.has(after)) offending.push({ path, problem: `'after' names ${JSON.stringify(after)}, which the plan does not delete` });
  }
  return offending;
}

/** The planned paths that are not a normalised relative path to a managed sstate file, each with its problem. */
export function unsafePaths(files: Iterable<{ path: string }>, names = new SstateNames()): { path: string; problem: string }[] {
  const offending: { path: string; problem: string }[] = [];
  const seen = new Set<string>();
  for (const { path } of files) {
    const problem = pathProblem(path, names) ?? (seen.has(path) ? "listed twice" : undefined);
    seen.add(path);
    if (problem !== undefined) offending.push({ path, problem });
  }
  return offending;
}

/**
 * Why a path from a plan may not be handed to a backend, or undefined if it may. Paths are
 * checked as written, never normalised into something else: a plan only ever holds paths
 * exactly as a listing returned them.
 */
export function pathProblem(path: string, names = new SstateNames()): string | undefined {
  if (path === "") return "empty path";
  if (path.includes("\u0000")) return "contains a NUL character";
  if (path.startsWith("/") || /^[A-Za-z]:/.test(path)) return "absolute path (paths are relative to the target root)";
  for (const segment of path.split("/")) {
    if (segment === "") return "empty path segment ('//' or a trailing '/')";
    if (segment === "." || segment === "..") return `'${segment}' path segment (must not step outside or around the target root)`;
  }
  if (names.parse(path) === undefined) return "not a managed sstate file (unmanaged files are never deleted)";
  return undefined;
}
