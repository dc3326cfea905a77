import type { ManagedFile } from "../../sstate/listing.ts";
import type { SelectorDefinition } from "./selector.ts";

/** Fields a `per:` list may group by. */
export const PER_FIELDS = {
  pn: (f: ManagedFile) => f.name.pn,
  arch: (f: ManagedFile) => f.name.arch,
  task: (f: ManagedFile) => f.name.task,
  kind: (f: ManagedFile) => f.name.kind,
  suffix: (f: ManagedFile) => f.name.suffix,
  pv: (f: ManagedFile) => f.name.pv,
  pr: (f: ManagedFile) => f.name.pr,
  hash: (f: ManagedFile) => f.name.hash,
  nativelsb: (f: ManagedFile) => f.name.nativelsb,
} as const;
export type PerField = keyof typeof PER_FIELDS;
export const PER_FIELD_NAMES = Object.keys(PER_FIELDS) as PerField[];

const count = { type: "integer", minimum: 1 };

export const newest: SelectorDefinition = {
  name: "newest",
  schema: count,
  expected: "a whole number of files, at least 1",
  description: "Keep only: among the files the rule's other selectors match, the N newest of each `per` group (by mtime, ties by path).",
  allowedIn: ["keep"],
  role: "group",
  examples: ["{ kind: archive, newest: 1, per: [pn, arch, task] }"],
  compile: () => undefined,
};

export const exceptNewest: SelectorDefinition = {
  name: "except-newest",
  schema: count,
  expected: "a whole number of files, at least 1",
  description: "Delete only: among the files the rule's other selectors match, all but the N newest of each `per` group.",
  allowedIn: ["delete"],
  role: "group",
  examples: ["{ suffix: [.tar.zst, .tar.zst.siginfo], task: '!populate_lic', except-newest: 1, per: [pn, arch, task, suffix] }"],
  compile: () => undefined,
};

export const per: SelectorDefinition = {
  name: "per",
  schema: { type: "array", items: { enum: PER_FIELD_NAMES }, minItems: 1, uniqueItems: true },
  expected: `a list of fields among ${PER_FIELD_NAMES.join(", ")}`,
  description: "The fields that form the groups of `newest` / `except-newest` (default: one group).",
  allowedIn: ["keep", "delete"],
  role: "modifier",
  examples: ["{ kind: archive, newest: 2, per: [pn, arch, task] }"],
  compile: () => undefined,
};
