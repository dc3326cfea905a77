import { documentedEnum } from "../value-schemas.ts";
import { PER_FIELD_NAMES, type PerField, type SelectorDefinition } from "./selector.ts";

const count = { type: "integer", minimum: 1, errorMessage: "Expected a whole number of files, at least 1." };

const FIELD_MEANINGS: Record<PerField, string> = {
  pn: "The recipe name (PN).",
  arch: "SSTATE_PKGARCH (empty for SWSPEC names).",
  task: "The task, without `do_`.",
  kind: "archive, siginfo, signature, done or temp.",
  suffix: "The whole extension, e.g. `.tar.zst.siginfo`.",
  pv: "The PV field of the name.",
  pr: "The PR field of the name.",
  hash: "The unihash in the name.",
  nativelsb: "The native LSB directory (e.g. `universal`), empty for target files.",
};

export const newest: SelectorDefinition = {
  name: "newest",
  schema: count,
  expected: "a whole number of files, at least 1",
  description: "Keep only: among the files the rule's other selectors match, the N newest of each `per` group (by mtime, ties by path).",
  allowedIn: ["keep"],
  placementHint: "in a delete rule use 'except-newest'",
  examples: ["{ kind: archive, newest: 1, per: [pn, arch, task] }"],
  compile: ({ value }) => ({ group: { mode: "newest", count: value as number } }),
};

export const exceptNewest: SelectorDefinition = {
  name: "except-newest",
  schema: count,
  expected: "a whole number of files, at least 1",
  description: "Delete only: among the files the rule's other selectors match, all but the N newest of each `per` group.",
  allowedIn: ["delete"],
  placementHint: "in a keep rule use 'newest'",
  examples: ["{ suffix: [.tar.zst, .tar.zst.siginfo], task: '!populate_lic', except-newest: 1, per: [pn, arch, task, suffix] }"],
  compile: ({ value }) => ({ group: { mode: "except-newest", count: value as number } }),
};

export const per: SelectorDefinition = {
  name: "per",
  schema: { type: "array", items: documentedEnum(PER_FIELD_NAMES, (field) => FIELD_MEANINGS[field as PerField]), minItems: 1, uniqueItems: true },
  expected: `a list of fields among ${PER_FIELD_NAMES.join(", ")}`,
  description: "The fields that form the groups of `newest` / `except-newest` (default: one group).",
  allowedIn: ["keep", "delete"],
  needsOneOf: ["newest", "except-newest"],
  examples: ["{ kind: archive, newest: 2, per: [pn, arch, task] }", "{ kind: archive, except-newest: 1, per: [pn, arch, task] }"],
  compile: ({ value }) => ({ per: value as (typeof PER_FIELD_NAMES)[number][] }),
};
