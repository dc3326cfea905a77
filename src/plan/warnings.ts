import type { Diagnostic } from "../policy/diagnostics.ts";
import type { Policy } from "../policy/load.ts";
import type { Evaluation } from "./planner.ts";
import { count } from "./render/format.ts";

/**
 * The rules that selected no listed file, at their place in the policy: a glob with a typo, a
 * rule written for another cache, evidence that names nothing here. Said, never refused.
 */
export function unmatchedRules(policy: Policy, evaluation: Evaluation): Diagnostic[] {
  // A budget rule takes files only while the cache is over its budget: within it, taking none is no sign of a mistake.
  const withinBudget = new Set(evaluation.budgets.filter((budget) => budget.beforeBytes <= budget.limitBytes).map((budget) => budget.rule));
  return evaluation.rules.flatMap(({ rule, matched }, index) =>
    matched.files > 0 || withinBudget.has(rule) ? [] : [{
      code: "matched-nothing",
      message: `rule '${rule}' matched none of the ${count(evaluation.listing.count)} listed files`,
      file: policy.file,
      ...policy.rules[index]!.position,
      severity: "warning" as const,
    }]
  );
}
