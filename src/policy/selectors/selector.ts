import type { ManagedFile } from "../../sstate/listing.ts";
import type { TaskKey } from "../../sstate/name.ts";

/** What a selector may look at besides the file itself. */
export interface EvaluationContext {
  now: number;
  /** taskKeys of every pn+arch+task that has at least one archive in the listing. */
  tasksWithArchive: ReadonlySet<TaskKey>;
  /** Hashes named by the stamps/hashes of each rule, by rule name (resolved at the edge). */
  referencedHashes: ReadonlyMap<string, ReadonlySet<string>>;
  /** Whether the archive of the companion at this listing index exists and is not deleted by the first phase; only for `orphan`. */
  archiveSurvives(companionIndex: number): boolean;
}

/** `index` is the file's position in the (path-sorted) listing. */
export type FileTest = (file: ManagedFile, context: EvaluationContext, index: number) => boolean;

export type RuleAction = "keep" | "delete";

/** Reports a problem with the selector's value; `at` names a sub-path (e.g. a list index). */
export type ReportProblem = (message: string, at?: readonly (string | number)[]) => void;

export interface CompileInput {
  value: unknown;
  ruleName: string;
  action: RuleAction;
  report: ReportProblem;
}

/**
 * One policy selector: its schema fragment, where it may be used, and how it compiles into a
 * test. The policy schema and the documentation are assembled from these definitions.
 */
export interface SelectorDefinition {
  name: string;
  /** JSON schema of the selector's value. */
  schema: Record<string, unknown>;
  /** Human description of a valid value, used in messages. */
  expected: string;
  description: string;
  allowedIn: readonly RuleAction[];
  /**
   * `filter` tests each file; `group` limits a rule's matches per group (`newest`);
   * `modifier` only parameterises another selector (`per`); `orphan` filters run after the
   * first phase has decided which archives survive.
   */
  role: "filter" | "group" | "modifier" | "orphan";
  /**
   * A rule's filters are a conjunction: those that only compare a field of the file (kind,
   * age…) run first, so that lookups (globs, hashes, task sets) see only what passed them.
   */
  comparesField?: true;
  /** YAML snippets of a whole `keep:`/`delete:` mapping that use the selector. */
  examples: readonly string[];
  /** Returns the test, or undefined for selectors without one (or after reporting a problem). */
  compile(input: CompileInput): FileTest | undefined;
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
