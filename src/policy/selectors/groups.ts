import { isCompanionKind, kindOfEnding } from "../../sstate/name.ts";
import { endingsWhere, type SelectorDefinition } from "./selector.ts";

/** A selector that is either written as `true` or left out. */
const onlyTrue = { const: true, errorMessage: "Write `true`, or leave the selector out." };

export const orphan: SelectorDefinition = {
  name: "orphan",
  schema: onlyTrue,
  expected: "true",
  description: "Delete only: a .siginfo/.sig/.done whose own archive (same name stem) will not exist after this plan, for a pn+arch+task that has at least one archive in the listing.",
  allowedIn: ["delete"],
  placementHint: "orphans are deleted, never kept",
  phase: "orphan",
  examples: ["{ orphan: true }", "{ orphan: true, older-than: 7d }"],
  compile() {
    // The cheap tests first: most files are archives, most companions have their archive.
    return {
      test: (i, context) => isCompanionKind(context.listing.kinds[i]!) && !context.archiveSurvives(i) && context.tasksWithArchive[context.listing.taskKeys[i]!] === 1,
      admits: endingsWhere((ending) => isCompanionKind(kindOfEnding(ending))),
    };
  },
};

export const siginfoOnly: SelectorDefinition = {
  name: "siginfo-only",
  schema: onlyTrue,
  expected: "true",
  description: "Files of a pn+arch+task that has no archive in the listing (OE --remove-orphans), e.g. the siginfo of do_compile.",
  allowedIn: ["keep", "delete"],
  examples: ["{ siginfo-only: true, older-than: 30d }"],
  compile() {
    return { test: (i, context) => context.tasksWithArchive[context.listing.taskKeys[i]!] !== 1 };
  },
};

export const all: SelectorDefinition = {
  name: "all",
  schema: onlyTrue,
  expected: "true",
  description: "Every managed file (temp leftovers included, never unmanaged files). A delete rule needs at least one selector, so 'delete everything else' must be said.",
  allowedIn: ["keep", "delete"],
  examples: ["{ all: true }"],
  compile() {
    return { test: () => true };
  },
};
