import { SIZE_HELP } from "../../util/units.ts";
import { SIZE_SCHEMA } from "../value-schemas.ts";
import { type SelectorDefinition, sizeValue } from "./selector.ts";

export const overBudget: SelectorDefinition = {
  name: "over-budget",
  schema: SIZE_SCHEMA,
  expected: SIZE_HELP,
  unit: "size",
  description:
    "Delete only, after every other rule: while the managed files left exceed the size, the least recently used of the files the rule's other selectors match (last use: the latest of mtime and every use the evidence records; ties by path), each archive with its .sig and .done. Kept files and files younger than min-age are never taken; a budget that cannot be met is reported with its shortfall (guard `budget-must-fit` refuses such a plan).",
  allowedIn: ["delete"],
  placementHint: "a budget deletes; what must stay goes in keep rules, which win over it",
  phase: "budget",
  examples: ["{ over-budget: 2TiB }", "{ kind: archive, over-budget: 500GiB }"],
  compile({ value, report }) {
    const bytes = sizeValue(value, report);
    if (bytes === undefined) return undefined;
    return { budget: { bytes } };
  },
};
