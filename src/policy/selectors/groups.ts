import type { SelectorDefinition } from "./selector.ts";

const onlyTrue = { const: true };

export const orphan: SelectorDefinition = {
  name: "orphan",
  schema: onlyTrue,
  expected: "true",
  description:
    "Delete only: a .siginfo/.sig/.done whose own archive (same name stem) will not exist after this plan, for a pn+arch+task that has at least one archive in the listing.",
  allowedIn: ["delete"],
  role: "orphan",
  examples: ["{ orphan: true }", "{ orphan: true, older-than: 7d }"],
  compile() {
    // The cheap tests first: most files are archives, most companions have their archive.
    return (file, context, index) =>
      (file.name.kind === "siginfo" || file.name.kind === "signature" || file.name.kind === "done") &&
      !context.archiveSurvives(index) &&
      context.tasksWithArchive.has(file.name.taskKey);
  },
};

export const siginfoOnly: SelectorDefinition = {
  name: "siginfo-only",
  schema: onlyTrue,
  expected: "true",
  description: "Files of a pn+arch+task that has no archive in the listing (OE --remove-orphans), e.g. the siginfo of do_compile.",
  allowedIn: ["keep", "delete"],
  role: "filter",
  examples: ["{ siginfo-only: true, older-than: 30d }"],
  compile() {
    return (file, context) => !context.tasksWithArchive.has(file.name.taskKey);
  },
};

export const all: SelectorDefinition = {
  name: "all",
  schema: onlyTrue,
  expected: "true",
  description: "Every managed file (temp leftovers included, never unmanaged files). A delete rule needs at least one selector, so 'delete everything else' must be said.",
  allowedIn: ["keep", "delete"],
  role: "filter",
  examples: ["{ all: true }"],
  compile() {
    return () => true;
  },
};
