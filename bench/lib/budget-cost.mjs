import { readFile } from "node:fs/promises";
import { DEMO_NOW, generateCache } from "../../dist/demo/generate.js";
import { evaluate } from "../../dist/plan/planner.js";
import { loadPolicy } from "../../dist/policy/load.js";
import { ListingBuilder } from "../../dist/sstate/listing.js";
import { timed } from "./measure.mjs";

const BATCH = 10_000;

/**
 * What an over-budget rule adds to the evaluation, measured in-process on a generated listing
 * (no disk, no listing time: the CPU the budget costs, which a whole plan's wall time on a busy
 * machine varies by more than). `policyFile` plain against the same with the budget rule
 * appended, alternating, best of `runs` after a warm-up round.
 */
export async function budgetEvaluationCost({ files, runs, policyFile, budgetShare }) {
  const builder = new ListingBuilder();
  let batch = [];
  for (const file of generateCache({ files, now: DEMO_NOW })) {
    batch.push(file);
    if (batch.length === BATCH) {
      builder.add(batch);
      batch = [];
    }
  }
  builder.add(batch);
  const listing = builder.finish();
  const text = await readFile(policyFile, "utf8");
  const budgetBytes = Math.round(listing.bytes * budgetShare);
  const policies = {
    plain: loadPolicy(text, policyFile).policy,
    budget: loadPolicy(`${text}  - name: fit-budget\n    delete: { over-budget: ${budgetBytes}B }\n`, policyFile).policy,
  };
  const best = { plain: Infinity, budget: Infinity };
  let deletes = {};
  // One untimed round first: the first evaluation also compiles the planner.
  for (let run = -1; run < runs; run++) {
    for (const name of ["plain", "budget"]) {
      const { value, wallMs } = await timed(async () => evaluate({ listing, policy: policies[name], now: DEMO_NOW, referencedHashes: new Map() }));
      if (run >= 0) best[name] = Math.min(best[name], wallMs);
      deletes = { ...deletes, [name]: value.deleted.length };
    }
  }
  return { plainMs: best.plain, budgetMs: best.budget, extraMs: best.budget - best.plain, budgetBytes, deletes };
}
