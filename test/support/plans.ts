import type { RemoteFile } from "../../src/backends/backend.ts";
import { MemoryBackend } from "../../src/backends/memory.ts";
import { DEMO_NOW, generateCache } from "../../src/demo/generate.ts";
import { buildPlan, type PlanFile } from "../../src/plan/plan-file.ts";
import { evaluate } from "../../src/plan/planner.ts";
import { collectListing } from "../../src/sstate/listing.ts";
import { listAll } from "./list-all.ts";
import { policyFrom } from "./listing.ts";

/** Plans are made an hour after the generated cache's "now" and applied at this time unless a test moves the clock. */
export const PLANNED_AT = new Date(DEMO_NOW + 3_600_000);

/** Deletes every managed file at least a day old, with guards that allow it. */
export const DELETE_OLD_POLICY = `version: 1
guards: { min-age: 1h, max-delete-percent: 100, allow-empty: true }
rules:
  - name: expire-everything
    delete: { all: true, older-than: 1d }
`;

export interface MemoryCache {
  backend: MemoryBackend;
  plan: PlanFile;
  /** Every object right after planning, sorted by path. */
  before: RemoteFile[];
}

/**
 * A generated cache of `files` objects in memory and the plan `policy` makes for it at
 * PLANNED_AT, as `plan` would make it (listed, evaluated, built): apply's input without disk.
 */
export async function plannedMemoryCache(files: number, policy = DELETE_OLD_POLICY): Promise<MemoryCache> {
  const backend = new MemoryBackend({ objects: generateCache({ files, now: DEMO_NOW }), clock: () => PLANNED_AT.getTime() });
  const listing = await collectListing(backend.list());
  const compiled = policyFrom(policy);
  const evaluation = evaluate({ listing, policy: compiled, now: DEMO_NOW, referencedHashes: new Map(), explainKept: false });
  const plan = buildPlan(evaluation, {
    tool: { name: "sstate-keeper", version: "test" },
    createdAt: PLANNED_AT,
    now: new Date(DEMO_NOW),
    validForMs: 7 * 86_400_000,
    target: backend.displayUrl,
    policy: { path: "policy.yaml", sha256: compiled.sha256 },
    listing: { files: listing.count, bytes: listing.bytes, sha256: listing.sha256 },
  });
  return { backend, plan, before: await listAll(backend) };
}
