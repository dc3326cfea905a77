import type { BuildManifest } from "../../sstate/build-manifest.ts";
import type { Listing } from "../../sstate/listing.ts";
import { ENDING_CODE_COUNT } from "../../sstate/name.ts";
import type { SourcePosition } from "../locate.ts";
import { DURATION_HELP, parseDuration, parseSize, SIZE_HELP } from "../../util/units.ts";

/** What a selector may look at besides the file itself. */
export interface EvaluationContext {
  listing: Listing;
  now: number;
  /** 1 for each taskKey whose pn+arch+task has at least one archive in the listing. */
  tasksWithArchive: Uint8Array;
  /** Hashes named by the stamps/hashes of each rule, by rule name (resolved at the edge). */
  referencedHashes: ReadonlyMap<string, ReadonlySet<string>>;
  /** The build manifests read at the edge, by `from` location as written in the policy ("" for the plan's target). */
  builds: ReadonlyMap<string, readonly BuildManifest[]>;
  /** Whether the archive of the companion at this index exists and is not deleted by the first phase; only for the orphan phase. */
  archiveSurvives(companionIndex: number): boolean;
  /** Whether file `i` is deleted by the phases before the one being evaluated (the first phase and min-age); only for the orphan phase. */
  deletedByEarlierPhases(i: number): boolean;
  /** When file `i` was last used: the latest of its mtime and every use the evidence records for it. */
  lastUse(i: number): number;
}

/** Uses of cache files found at the edge (access logs, …): the latest use of each path, in ms since the epoch. */
export interface UseEvidence {
  latestUse(path: string): number | undefined;
  /** Where the latest use of `path` was recorded, e.g. `access.log.1:1234`. */
  whereUsed?(path: string): string | undefined;
}

/** Whether file `i` of the context's listing is selected. */
export type FileTest = (i: number, context: EvaluationContext) => boolean;

export type RuleAction = "keep" | "delete";

/**
 * When a rule is evaluated (SPEC §2): `first` on the listing, `orphan` against the archives that
 * survive the first phase and min-age, `budget` against what every other rule leaves. A rule
 * takes the latest phase any of its selectors asks for.
 */
export type Phase = "first" | "orphan" | "budget";
export const PHASES: readonly Phase[] = ["first", "orphan", "budget"];

/** Fields a `per:` list may group by. */
export const PER_FIELD_NAMES = ["pn", "arch", "task", "kind", "suffix", "pv", "pr", "hash", "nativelsb"] as const;
export type PerField = (typeof PER_FIELD_NAMES)[number];

/** A stamps directory or manifest file a rule names, read at the edge before planning. */
export interface ReferenceSource {
  kind: "stamps" | "hashes";
  /** As written in the policy. */
  written: string;
  /** Resolved against the policy file's directory. */
  path: string;
  position: SourcePosition;
}

/** One end of a range of numbers. */
export interface Bound {
  value: number;
  inclusive: boolean;
}

/**
 * What a selector lets through of one property of a file (its age, its size, its ending…),
 * declared so that the loader finds the rules whose selectors exclude each other, and so can
 * never match, without knowing any selector: a range of a number, or the codes of a finite set
 * (an `endings` column value, see ENDINGS).
 */
export type Admitted = { property: string } & ({ range: NumberRange } | { codes: ReadonlySet<number> });

export interface NumberRange {
  lower?: Bound;
  upper?: Bound;
  /** The property takes whole numbers only (bytes). */
  integer?: true;
}

/** What `test` admits of the file's ending (kind and suffix are both read from it). */
export function endingsWhere(test: (ending: number) => boolean): Admitted {
  const codes = new Set<number>();
  for (let ending = 0; ending < ENDING_CODE_COUNT; ending++) if (test(ending)) codes.add(ending);
  return { property: "ending", codes };
}

/** Where a rule reads build manifests from (read at the edge before planning). */
export interface BuildsSource {
  /** A target URL or a path relative to the policy file, as written; absent: the plan's target. */
  from?: string;
  /** The rule's window: manifests named as published long before it need not be read. */
  withinMs: number;
  position: SourcePosition;
}

/** What one selector adds to its rule. */
export interface Contribution {
  /** A conjunct of the rule's test. */
  test?: FileTest;
  /** Limits the rule's matches to the newest (or all but the newest) of each group. */
  group?: { mode: "newest" | "except-newest"; count: number };
  /** Limits a delete rule's matches to the least recently used it takes to bring the managed total within `bytes`. */
  budget?: { bytes: number };
  /** The fields that form the groups. */
  per?: readonly PerField[];
  references?: ReferenceSource[];
  /** What the test lets through, for finding contradictions. */
  admits?: Admitted;
  /** How far back the rule looks for uses (`unused-for`): logs that begin later are reported. */
  looksBackMs?: number;
  builds?: BuildsSource;
}

/** Reports a problem with the selector's value; `at` names a sub-path (e.g. a list index). */
export type ReportProblem = (message: string, at?: readonly (string | number)[]) => void;

/** Says that a valid value is likely not what was meant (a warning: the policy is still used). */
export type ReportWarning = (code: string, message: string, at?: readonly (string | number)[]) => void;

export interface CompileInput {
  value: unknown;
  ruleName: string;
  action: RuleAction;
  report: ReportProblem;
  warn: ReportWarning;
  /** Where the value (or a part of it) is written in the policy. */
  position(at?: readonly (string | number)[]): SourcePosition;
}

/**
 * One policy selector: its schema fragment, where it may be used, and what it contributes to
 * its rule. The policy schema, the loader's checks and the documentation are assembled from
 * these definitions; nothing outside a selector's module names it.
 */
export interface SelectorDefinition {
  name: string;
  /** JSON schema of the selector's value. */
  schema: Record<string, unknown>;
  /** Human description of a valid value, used in messages. */
  expected: string;
  description: string;
  allowedIn: readonly RuleAction[];
  /** Said when the selector is used in a rule it is not allowed in. */
  placementHint?: string;
  /** A rule using this selector is evaluated in this phase (default: the first). */
  phase?: Phase;
  /** Selectors of which the rule must have one beside this one (`per` needs `newest` or `except-newest`). */
  needsOneOf?: readonly string[];
  /** Values in these units get a hint when written as a bare number. */
  unit?: "duration" | "size";
  /**
   * A rule's tests are a conjunction: those that only compare a column of the file (kind,
   * age…) run first, so that lookups (globs, hashes, task sets) see only what passed them.
   */
  comparesField?: true;
  /** YAML snippets of a whole `keep:`/`delete:` mapping that use the selector. */
  examples: readonly string[];
  /** What the selector adds to its rule, or undefined after reporting a problem. */
  compile(input: CompileInput): Contribution | undefined;
}

/** "one or a list" of strings, as selectors accept them. */
export function stringOrList(items: Record<string, unknown> = { type: "string", minLength: 1 }): Record<string, unknown> {
  return {
    anyOf: [items, { type: "array", items, minItems: 1 }],
  };
}

export function asList(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [String(value)];
}

/** A value written in a unit, or undefined after reporting (at `at`, with `label` before it) that it is not one. */
function unitValue(parse: (text: string) => number | undefined, help: string) {
  return (value: unknown, report: ReportProblem, at?: { label: string; path: readonly (string | number)[] }): number | undefined => {
    const parsed = typeof value === "string" ? parse(value) : undefined;
    if (parsed === undefined) report(`${at ? `${at.label}: ` : ""}${JSON.stringify(value)} is not ${help}`, at?.path);
    return parsed;
  };
}

/** A selector's duration value in milliseconds. */
export const durationValue = unitValue(parseDuration, DURATION_HELP);
/** A selector's size value in bytes. */
export const sizeValue = unitValue(parseSize, SIZE_HELP);
