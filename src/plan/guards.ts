import type { Guards } from "../policy/load.ts";
import { formatBytes, formatDuration } from "../util/units.ts";
import type { BudgetOutcome } from "./budget.ts";

export interface GuardResult {
  name: "min-age" | "max-delete-percent" | "max-delete-bytes" | "allow-empty" | "budget-must-fit";
  limit: string;
  value: string;
  verdict: "ok" | "refused";
  message: string;
}

/** What the guards judge: the plan's totals. */
export interface GuardedTotals {
  deleted: { files: number; bytes: number; archives: number };
  kept: { files: number; archives: number };
  minAgeProtected: number;
  budgets: readonly BudgetOutcome[];
}

/** Plan-level guards (SPEC §2 step 5); min-age is reported here but applied per file by the planner. */
export function evaluateGuards(guards: Guards, { deleted, kept, minAgeProtected, budgets }: GuardedTotals): GuardResult[] {
  const results: GuardResult[] = [
    {
      name: "min-age",
      limit: formatDuration(guards.minAgeMs),
      value: `${minAgeProtected} files`,
      verdict: "ok",
      message: `${minAgeProtected} files younger than ${formatDuration(guards.minAgeMs)} were kept although a delete rule selected them`,
    },
  ];
  const managed = deleted.files + kept.files;
  if (guards.maxDeletePercent !== undefined) {
    const percent = managed === 0 ? 0 : (deleted.files / managed) * 100;
    const refused = percent > guards.maxDeletePercent;
    results.push({
      name: "max-delete-percent",
      limit: `${guards.maxDeletePercent}%`,
      value: `${percent.toFixed(2)}%`,
      verdict: refused ? "refused" : "ok",
      message: refused
        ? `the plan deletes ${deleted.files} of ${managed} managed files (${percent.toFixed(2)}%), ${
          (percent - guards.maxDeletePercent).toFixed(2)
        } points over the limit of ${guards.maxDeletePercent}%`
        : `deletes ${percent.toFixed(2)}% of the managed files (limit ${guards.maxDeletePercent}%)`,
    });
  }
  if (guards.maxDeleteBytes !== undefined) {
    const bytes = deleted.bytes;
    const refused = bytes > guards.maxDeleteBytes;
    results.push({
      name: "max-delete-bytes",
      limit: formatBytes(guards.maxDeleteBytes),
      value: formatBytes(bytes),
      verdict: refused ? "refused" : "ok",
      message: refused
        ? `the plan deletes ${formatBytes(bytes)}, ${formatBytes(bytes - guards.maxDeleteBytes)} over the limit of ${formatBytes(guards.maxDeleteBytes)}`
        : `deletes ${formatBytes(bytes)} (limit ${formatBytes(guards.maxDeleteBytes)})`,
    });
  }
  const archivesDeleted = deleted.archives;
  const archivesKept = kept.archives;
  const empties = archivesDeleted > 0 && archivesKept === 0;
  results.push({
    name: "allow-empty",
    limit: guards.allowEmpty ? "true" : "false",
    value: `${archivesKept} archives left`,
    verdict: empties && !guards.allowEmpty ? "refused" : "ok",
    message: empties && !guards.allowEmpty
      ? `the plan deletes all ${archivesDeleted} archives and leaves an empty cache; set 'allow-empty: true' under guards if that is intended`
      : `${archivesKept} archives remain`,
  });
  // Reported whenever the policy has a budget, so a shortfall is said even when it is allowed.
  if (budgets.length > 0) {
    const short = budgets.filter((budget) => budget.shortfallBytes > 0);
    const shortfalls = short.map((budget) =>
      `rule '${budget.rule}' leaves ${formatBytes(budget.afterBytes)}, ${formatBytes(budget.shortfallBytes)} over its budget of ${formatBytes(budget.limitBytes)}`
    );
    results.push({
      name: "budget-must-fit",
      limit: guards.budgetMustFit ? "true" : "false",
      value: short.length === 0 ? "fits" : `${formatBytes(Math.max(...short.map((budget) => budget.shortfallBytes)))} over`,
      verdict: short.length > 0 && guards.budgetMustFit ? "refused" : "ok",
      message: short.length === 0
        ? budgets.map((budget) => `rule '${budget.rule}' leaves ${formatBytes(budget.afterBytes)} (budget ${formatBytes(budget.limitBytes)})`).join("; ")
        : `${shortfalls.join("; ")}: keep rules and min-age hold more than the budget${guards.budgetMustFit ? "" : " (set 'budget-must-fit: true' under guards to refuse such a plan)"}`,
    });
  }
  return results;
}
