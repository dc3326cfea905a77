/**
 * One plan: list the target, evaluate the policy against the listing and the evidence its rules
 * name, and build the plan file. The CLI reads the inputs and renders what this returns.
 */
import { dirname, relative, resolve, sep } from "node:path";
import type { Backend } from "../backends/backend.ts";
import { listBackend, type TargetContext, withBackend } from "../backends/open.ts";
import type { Target } from "../backends/registry.ts";
import { readUses } from "../evidence/uses/read.ts";
import { byPosition, type Diagnostic } from "../policy/diagnostics.ts";
import { readPolicyBuilds } from "../evidence/build-manifests.ts";
import type { Policy } from "../policy/load.ts";
import { readListingSource } from "../sources/read.ts";
import type { ListingSource } from "../sources/source.ts";
import type { Listing } from "../sstate/listing.ts";
import type { ProgressListener } from "../util/progress.ts";
import { TOOL } from "../util/version.ts";
import { buildPlan, type PlanFile } from "./plan-file.ts";
import { evaluate, type Evaluation } from "./planner.ts";
import { unmatchedRules } from "./warnings.ts";

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
  /** The policy's warnings, found when it was read; the plan records them with its own. */
  warnings?: readonly Diagnostic[];
  /**
   * `--listing`: plan from this saved listing or S3 Inventory report instead of listing the
   * target (which is then opened only if the policy reads build manifests from it).
   */
  listingSource?: string;
  onProgress?: ProgressListener;
  /** Told the use evidence's warnings (malformed log lines, a log without uses) as soon as the logs are read, before the listing. */
  onWarnings?: (warnings: readonly Diagnostic[]) => void;
}

export interface PlanRun {
  plan: PlanFile;
  /** The decisions by listing index, for `why`. */
  evaluation: Evaluation;
  /** The warnings planning found (rules that matched nothing), besides the policy's and the use evidence's. */
  warnings: Diagnostic[];
}

export async function makePlan(input: PlanRunInput): Promise<PlanRun> {
  const { target, policy, now, onProgress } = input;
  // Before listing: a log that cannot be read stops the plan before the long work.
  const reading = policy.uses.length > 0 ? await readUses(policy, input.cwd, now.getTime(), input.context) : undefined;
  const evidenceWarnings = reading?.warnings ?? [];
  if (evidenceWarnings.length > 0) input.onWarnings?.(evidenceWarnings);
  if (input.listingSource === undefined) {
    return withBackend(target, input.context, async (backend) => planListing(input, reading, { listing: await listBackend(backend, { onProgress }) }, backend));
  }
  const listed = await readListingSource({ source: input.listingSource, cwd: input.cwd, target, context: input.context, onProgress });
  const readsTargetManifests = policy.rules.some((rule) => rule.builds.some((builds) => (builds.from ?? "") === ""));
  return readsTargetManifests ? withBackend(target, input.context, (backend) => planListing(input, reading, listed, backend)) : planListing(input, reading, listed, undefined);
}

/** `backend`: the target, opened when the listing is its own or the policy reads build manifests from it. */
async function planListing(
  input: PlanRunInput,
  reading: Awaited<ReturnType<typeof readUses>> | undefined,
  listed: { listing: Listing; source?: ListingSource },
  backend: Backend | undefined,
): Promise<PlanRun> {
  const { target, policy, now, onProgress } = input;
  const { listing, source } = listed;
  const evidenceWarnings = reading?.warnings ?? [];
  onProgress?.({ phase: `evaluating ${policy.file}`, done: listing.count, total: listing.count, unit: "files" });
  const builds = await readPolicyBuilds(policy, { backend, listing, context: input.context, baseDir: dirname(resolve(input.cwd, policy.file)), now: now.getTime() });
  const evaluation = evaluate({ listing, policy, now: now.getTime(), referencedHashes: input.evidence, uses: reading?.uses, builds, explainKept: input.explainKept });
  const warnings = unmatchedRules(policy, evaluation);
  const plan = buildPlan(
    evaluation,
    {
      tool: TOOL,
      createdAt: input.createdAt,
      now,
      validForMs: input.validForMs,
      target: target.url,
      policy: { path: portablePath(input.cwd, policy.file), sha256: policy.sha256 },
      listing: { files: listing.count, bytes: listing.bytes, sha256: listing.sha256, ...(source ? { source } : {}) },
      // Recorded as the plan records the policy: relative to where the command ran.
      warnings: [...(input.warnings ?? []), ...evidenceWarnings, ...warnings].sort(byPosition).map((warning) => ({ ...warning, file: portablePath(input.cwd, warning.file) })),
    },
    input.key,
  );
  return { plan, evaluation, warnings };
}

/** The policy path as recorded in the plan: relative to where the command ran, with / separators. */
function portablePath(cwd: string, file: string): string {
  return relative(cwd, resolve(cwd, file)).split(sep).join("/");
}
