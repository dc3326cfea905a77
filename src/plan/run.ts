/**
 * One plan: list the target, evaluate the policy against the listing and the evidence its rules
 * name, and build the plan file. The CLI reads the inputs and renders what this returns.
 */
import { dirname, relative, resolve, sep } from "node:path";
import { listBackend, withBackend, type TargetContext } from "../backends/open.ts";
import type { Target } from "../backends/registry.ts";
import { readPolicyBuilds } from "../evidence/build-manifests.ts";
import type { Policy } from "../policy/load.ts";
import type { ProgressListener } from "../util/progress.ts";
import { TOOL } from "../util/version.ts";
import { buildPlan, type PlanFile } from "./plan-file.ts";
import { evaluate, type Evaluation } from "./planner.ts";

/** The environment variable that holds the plan key: plans made with it are signed, and apply can require that. */
export const PLAN_KEY = "SSTATE_KEEPER_PLAN_KEY";

export interface PlanRunInput {
  target: Target;
  context: TargetContext;
  policy: Policy;
  /** Where the command runs: the plan records the policy file relative to it. */
  cwd: string;
  /** The hashes each rule's stamps and manifests name, by rule name (read with the policy). */
  evidence: ReadonlyMap<string, ReadonlySet<string>>;
  /** What ages are measured against. */
  now: Date;
  /** When the plan is made (its expiry counts from here). */
  createdAt: Date;
  validForMs: number;
  /** Also list every kept file with its reason (`--explain`). */
  explainKept: boolean;
  /** The plan key (SSTATE_KEEPER_PLAN_KEY): with it the plan is signed. */
  key?: string;
  onProgress?: ProgressListener;
}

export interface PlanRun {
  plan: PlanFile;
  /** The decisions by listing index, for `why`. */
  evaluation: Evaluation;
}

export function makePlan(input: PlanRunInput): Promise<PlanRun> {
  const { target, policy, now, onProgress } = input;
  return withBackend(target, input.context, async (backend) => {
    const listing = await listBackend(backend, { onProgress });
    onProgress?.({ phase: `evaluating ${policy.file}`, done: listing.count, total: listing.count, unit: "files" });
    const builds = await readPolicyBuilds(policy, { backend, listing, context: input.context, baseDir: dirname(resolve(input.cwd, policy.file)), now: now.getTime() });
    const evaluation = evaluate({ listing, policy, now: now.getTime(), referencedHashes: input.evidence, builds, explainKept: input.explainKept });
    const plan = buildPlan(
      evaluation,
      {
        tool: TOOL,
        createdAt: input.createdAt,
        now,
        validForMs: input.validForMs,
        target: target.url,
        policy: { path: portablePath(input.cwd, policy.file), sha256: policy.sha256 },
        listing: { files: listing.count, bytes: listing.bytes, sha256: listing.sha256 },
      },
      input.key,
    );
    return { plan, evaluation };
  });
}

/** The policy path as recorded in the plan: relative to where the command ran, with / separators. */
function portablePath(cwd: string, file: string): string {
  return relative(cwd, resolve(cwd, file)).split(sep).join("/");
}
