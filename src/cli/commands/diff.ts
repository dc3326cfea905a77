import { comparePlans } from "../../plan/diff.ts";
import { command } from "../command.ts";
import { readPlan } from "../inputs.ts";
import { EXIT } from "../io.ts";
import { allOption, formatOption, maxCharsOption } from "../options.ts";
import { writeDiff } from "../views/diff.ts";
import { PLAN_FORMATS } from "../views/plan.ts";

export const diffCommand = command({
  name: "diff",
  summary: "what changed between two plans: files newly deleted, no longer deleted, deleted by another rule",
  description: `Compares the delete lists of two plan files (e.g. the plan a reviewer approved and a fresh
one), with the bytes either way and the rules involved. 'plan --diff PREVIOUS' compares a fresh
plan with a saved one without saving the fresh one first.`,
  operands: { usage: "OLD NEW", min: 2, max: 2, wrongCount: "name the old plan file and the new one" },
  options: { format: formatOption(PLAN_FORMATS), "max-chars": maxCharsOption, all: allOption },
  async run({ options, operands: [older, newer] }, io) {
    const comparison = comparePlans({ source: older!, plan: await readPlan(io, older!) }, { source: newer!, plan: await readPlan(io, newer!) });
    writeDiff(io, comparison, options.format, { all: options.all, maxChars: options["max-chars"] });
    return EXIT.ok;
  },
});
