import { createHash } from "node:crypto";
import { dirname, isAbsolute, join } from "node:path";
import { Ajv, type ErrorObject } from "ajv";
import { type Document, LineCounter, parseDocument } from "yaml";
import { SELECTORS_BY_NAME } from "./selectors/registry.ts";
import { type BuildsSource, type Contribution, type FileTest, type PerField, type Phase, PHASES, type ReferenceSource, type RuleAction } from "./selectors/selector.ts";
import { DEFAULT_MIN_AGE_MS, GUARD_DEFINITIONS, type Guards } from "./guards.ts";
import { type Declared, excludingEachOther } from "./contradictions.ts";
import { type Diagnostic, excerpt, shown } from "./diagnostics.ts";
import { checkDocumentShape, MAX_POLICY_DEPTH } from "./document-limits.ts";
import { decodePointer, type JsonPath, locate, type SourcePosition } from "./locate.ts";
import { policySchema } from "./schema.ts";
import { EDITOR_KEYWORDS } from "./value-schemas.ts";
import { compileUses, type UseSource } from "./uses.ts";
import { bareNumberHint, DURATION_HELP, formatDuration, parseDuration, parseSize, SIZE_HELP } from "../util/units.ts";
import { isUrlLocation } from "../util/location.ts";

export type { Guards } from "./guards.ts";
export type { BuildsSource, ReferenceSource } from "./selectors/selector.ts";
export type { UseSource } from "./uses.ts";

export interface GroupLimit {
  mode: "newest" | "except-newest";
  count: number;
  per: readonly PerField[];
}

export interface Rule {
  name: string;
  action: RuleAction;
  /** The conjuncts of the rule's test: all must match. */
  tests: FileTest[];
  /** When the rule is evaluated: the latest phase any of its selectors asks for. */
  phase: Phase;
  group?: GroupLimit;
  /** Deletes only the least recently used matches it takes to bring the managed total within this many bytes. */
  budget?: { bytes: number };
  references: ReferenceSource[];
  /** How far back the rule looks for uses (its `unused-for`). */
  looksBackMs?: number;
  /** Where its `used-by-builds` reads build manifests. */
  builds: BuildsSource[];
  position: SourcePosition;
}

export interface Policy {
  file: string;
  sha256: string;
  description?: string;
  target?: string;
  /** Where `target:` is written, for problems found when it is parsed as a target. */
  targetPosition?: SourcePosition;
  guards: Guards;
  rules: Rule[];
  /** Where evidence of use is read (`uses:`); empty when the policy declares none. */
  uses: UseSource[];
}

export interface LoadResult {
  /** Present whenever the YAML parsed, even with problems, so later checks (stamps dirs) still run; usable only without diagnostics. */
  policy?: Policy;
  /** The errors. */
  diagnostics: Diagnostic[];
  /** What is valid but likely not meant (a rule that can never match…): said, and the policy is still used. */
  warnings: Diagnostic[];
}

export { DEFAULT_MIN_AGE_MS } from "./guards.ts";
/** A policy is a reviewed file of a few dozen lines; parsing this much takes well under a second. */
export const MAX_POLICY_BYTES = 256 * 1024;
export const SUPPORTED_POLICY_VERSION = 1;

let compiledValidator: ReturnType<Ajv["compile"]> | undefined;
function validator(): ReturnType<Ajv["compile"]> {
  compiledValidator ??= new Ajv({ allErrors: true, strict: true }).addVocabulary([...EDITOR_KEYWORDS]).compile(policySchema());
  return compiledValidator;
}

/** The sha256 a plan records of the policy text it was made from, and apply compares. */
export function policyDigest(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Parses and checks a policy; every problem is collected with its line and column. No I/O. */
export function loadPolicy(text: string, file: string): LoadResult {
  const lines = new LineCounter();
  // Keys are checked for uniqueness by checkDocumentShape (linear); the library would print its warnings to the process's stderr.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false, logLevel: "error" });
  const diagnostics: Diagnostic[] = [];
  const warnings: Diagnostic[] = [];
  const at: Report = (path, code, message, options = {}) => {
    const { line, col } = locate(doc, lines, path, options);
    const diagnostic: Diagnostic = { code, message, file, line, col, ...(options.hint ? { hint: options.hint } : {}) };
    if (options.warning) warnings.push({ ...diagnostic, severity: "warning" });
    else diagnostics.push(diagnostic);
  };

  for (const error of doc.errors) {
    const { line, col } = lines.linePos(error.pos[0]);
    // The library's parser recurses and reports the stack overflow of a hostile nesting.
    const message = error.code === "RESOURCE_EXHAUSTION" ? `nested too deeply to read (a policy is never more than ${MAX_POLICY_DEPTH} levels deep)` : error.message.split("\n")[0]!;
    diagnostics.push({ code: "yaml-syntax", message, file, line, col });
  }
  if (diagnostics.length > 0) return { diagnostics, warnings };
  for (const problem of checkDocumentShape(doc, lines)) diagnostics.push({ code: problem.code, message: problem.message, file, ...problem.position });
  if (diagnostics.length > 0) return { diagnostics, warnings };

  // checkDocumentShape bounded what the aliases expand into; the library's own count of alias uses would refuse a policy sharing one list twenty times.
  const data: unknown = doc.toJS({ maxAliasCount: -1 });
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    at([], "not-a-policy", "a policy must be a YAML mapping with 'version: 1' and 'rules'");
    return { diagnostics, warnings };
  }

  const invalidPaths = reportSchemaErrors(validator(), data, at);
  const source: Source = { doc, lines, report: at };
  const policy = compilePolicy(data as RawPolicy, source, invalidPaths);
  policy.file = file;
  policy.sha256 = policyDigest(text);
  // Relative to the policy file; the caller resolves against its working directory.
  policy.rules.forEach((rule) => rule.references.forEach((ref) => (ref.path = isAbsolute(ref.written) ? ref.written : join(dirname(file), ref.written))));
  for (const use of policy.uses) if (!isUrlLocation(use.written) && !isAbsolute(use.written)) use.location = join(dirname(file), use.written);
  return { policy, diagnostics, warnings };
}

type Report = (path: JsonPath, code: string, message: string, options?: { key?: boolean; hint?: string; warning?: true }) => void;

/** The parsed policy text, for positions, and where problems go. */
interface Source {
  doc: Document;
  lines: LineCounter;
  report: Report;
}

interface RawPolicy {
  version?: unknown;
  description?: string;
  target?: string;
  guards?: Record<string, unknown>;
  rules?: unknown[];
  uses?: unknown;
}

/** Turns ajv's errors into one diagnostic per offending place; returns the JSON paths that failed. */
function reportSchemaErrors(validate: ReturnType<Ajv["compile"]>, data: unknown, report: Report): Set<string> {
  const invalid = new Set<string>();
  if (validate(data)) return invalid;
  const byPath = new Map<string, ErrorObject[]>();
  for (const error of validate.errors ?? []) {
    if (reportedByCompileRule(error)) continue;
    if (error.keyword === "additionalProperties") {
      const key = String((error.params as { additionalProperty: string }).additionalProperty);
      const path = [...decodePointer(error.instancePath), key];
      invalid.add(path.join("/"));
      report(path, "unknown-key", unknownKeyMessage(decodePointer(error.instancePath), key, data), { key: true, ...suggest(decodePointer(error.instancePath), key) });
      continue;
    }
    const list = byPath.get(error.instancePath) ?? [];
    list.push(error);
    byPath.set(error.instancePath, list);
  }
  for (const [pointer, errors] of byPath) {
    const path = decodePointer(pointer);
    // A selector value that breaks the schema: one message per selector, however many branches failed.
    if (path[0] === "rules" && path.length >= 4 && (path[2] === "keep" || path[2] === "delete")) {
      const selectorPath = path.slice(0, 4);
      const key = selectorPath.join("/");
      if (invalid.has(key)) continue;
      invalid.add(key);
      const selector = SELECTORS_BY_NAME.get(String(path[3]))!;
      const value = valueAt(data, path);
      report(path, "invalid-selector", `${selector.name}: ${shown(value)} is not valid; expected ${selector.expected}`, hintOf(selector.unit && bareNumberHint(selector.unit, value)));
      continue;
    }
    invalid.add(path.join("/"));
    const guard = path[0] === "guards" ? GUARD_DEFINITIONS.find((definition) => definition.name === path[1]) : undefined;
    report(path, "schema", schemaMessage(path, errors, data), hintOf(guard?.unit && bareNumberHint(guard.unit, valueAt(data, path))));
  }
  return invalid;
}

/**
 * The schema states these for editors; compileRule checks them again and reports them naming the
 * rule: exactly one of keep/delete (`anyOf`, and `if`/`then` refusing the second), no selectors
 * (`minProperties`), a selector in a rule of the wrong action or without its partner (`if`/`then`
 * refusing it).
 */
function reportedByCompileRule(error: ErrorObject): boolean {
  const path = decodePointer(error.instancePath);
  if (path[0] !== "rules") return false;
  if (error.keyword === "if" || error.keyword === "false schema") return true;
  if (path.length === 2) {
    const missing = error.keyword === "required" ? (error.params as { missingProperty: string }).missingProperty : undefined;
    return error.keyword === "anyOf" || missing === "keep" || missing === "delete";
  }
  return path.length === 3 && error.keyword === "minProperties";
}

/** A selector's value as a message quotes it: `30d`, `[archive, siginfo]`. */
function writtenValue(value: unknown): string {
  return excerpt(Array.isArray(value) ? `[${value.map(String).join(", ")}]` : String(value));
}

function hintOf(hint: string | undefined): { hint?: string } {
  return hint ? { hint } : {};
}

function schemaMessage(path: JsonPath, errors: ErrorObject[], data: unknown): string {
  const value = valueAt(data, path);
  const where = path.length ? path.join(".") : "policy";
  const first = errors.find((e) => e.keyword !== "if" && e.keyword !== "anyOf") ?? errors[0]!;
  if (path.length === 1 && path[0] === "version") {
    return `policy version ${shown(value)} is not supported: this sstate-keeper reads 'version: ${SUPPORTED_POLICY_VERSION}'`;
  }
  if (first.keyword === "required") {
    const missing = (first.params as { missingProperty: string }).missingProperty;
    return path[0] === "rules" ? `rule ${path[1] !== undefined ? Number(path[1]) + 1 : ""} is missing '${missing}'` : `${where}: missing '${missing}'`;
  }
  const guard = path[0] === "guards" ? GUARD_DEFINITIONS.find((definition) => definition.name === path[1]) : undefined;
  if (guard?.unit) return `${guard.name}: ${shown(value)} is not ${guard.unit === "duration" ? DURATION_HELP : SIZE_HELP}`;
  if (path[0] === "rules" && path[2] === "name") return `rule name ${shown(value)} must be letters, digits, '.', '_' or '-'`;
  return `${where}: ${first.message ?? "is not valid"}`;
}

function unknownKeyMessage(parent: JsonPath, key: string, data: unknown): string {
  if (parent[0] === "rules" && parent.length === 3) {
    const ruleName = (valueAt(data, parent.slice(0, 2)) as { name?: unknown })?.name;
    return `unknown selector '${excerpt(key)}' in ${String(parent[2])} rule${typeof ruleName === "string" ? ` '${excerpt(ruleName)}'` : ""}`;
  }
  if (parent[0] === "rules" && parent.length === 2) return `unknown key '${excerpt(key)}' in a rule: a rule has name, description and one of keep or delete`;
  if (parent[0] === "guards") return `unknown guard '${excerpt(key)}'`;
  return `unknown key '${excerpt(key)}' in the policy`;
}

function suggest(parent: JsonPath, key: string): { hint?: string } {
  const candidates = parent[0] === "rules" && parent.length === 3
    ? [...SELECTORS_BY_NAME.keys()]
    : parent[0] === "rules"
    ? ["name", "description", "keep", "delete"]
    : parent[0] === "guards"
    ? GUARD_DEFINITIONS.map((guard) => guard.name)
    : ["version", "description", "target", "guards", "rules", "uses"];
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const distance = editDistance(key, candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best ? { hint: `did you mean '${best}'?` } : {};
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length]!;
}

function valueAt(data: unknown, path: JsonPath): unknown {
  let value = data;
  for (const segment of path) value = (value as Record<string | number, unknown> | undefined)?.[segment];
  return value;
}

function compilePolicy(raw: RawPolicy, source: Source, invalid: Set<string>): Policy {
  const { report } = source;
  const guards = raw.guards ?? {};
  const policy: Policy = {
    file: "",
    sha256: "",
    guards: {
      minAgeMs: typeof guards["min-age"] === "string" ? (parseDuration(guards["min-age"]) ?? DEFAULT_MIN_AGE_MS) : DEFAULT_MIN_AGE_MS,
      allowEmpty: guards["allow-empty"] === true,
      budgetMustFit: guards["budget-must-fit"] === true,
    },
    rules: [],
    uses: invalid.has("uses") ? [] : compileUses(
      raw.uses,
      (path) => locate(source.doc, source.lines, path),
      (path, message) => report(path, "invalid-uses", message, { key: true }),
    ),
  };
  if (typeof raw.description === "string") policy.description = raw.description;
  if (typeof raw.target === "string") {
    policy.target = raw.target;
    policy.targetPosition = locate(source.doc, source.lines, ["target"]);
  }
  if (typeof guards["max-delete-percent"] === "number") policy.guards.maxDeletePercent = guards["max-delete-percent"];
  const maxBytes = typeof guards["max-delete-bytes"] === "string" ? parseSize(guards["max-delete-bytes"]) : undefined;
  if (maxBytes !== undefined) policy.guards.maxDeleteBytes = maxBytes;

  const firstUse = new Map<string, number>();
  (Array.isArray(raw.rules) ? raw.rules : []).forEach((rawRule, index) => {
    if (typeof rawRule !== "object" || rawRule === null || Array.isArray(rawRule)) return;
    const rule = compileRule(rawRule as Record<string, unknown>, index, source, invalid, policy.guards.minAgeMs);
    if (!rule) return;
    const earlier = firstUse.get(rule.name);
    if (earlier !== undefined) {
      report(["rules", index, "name"], "duplicate-rule", `duplicate rule name '${excerpt(rule.name)}' (also rule ${earlier + 1})`, {
        hint: "rule names must be unique: they are the reasons shown in plans",
      });
    } else firstUse.set(rule.name, index);
    policy.rules.push(rule);
  });
  return policy;
}

/** The key the min-age guard is declared under when a delete rule's selectors are checked against it. */
const MIN_AGE_GUARD = "min-age";

function compileRule(raw: Record<string, unknown>, index: number, source: Source, invalid: Set<string>, minAgeMs: number): Rule | undefined {
  const { report } = source;
  const base = ["rules", index] as const;
  const name = typeof raw.name === "string" ? raw.name : undefined;
  const label = name ? `rule '${excerpt(name)}'` : `rule ${index + 1}`;
  const actions = (["keep", "delete"] as const).filter((a) => a in raw);
  if (actions.length !== 1) {
    report(actions.length ? [...base, actions[1]!] : [...base], "rule-action", `${label} needs exactly one of 'keep' or 'delete'`, { key: actions.length > 1 });
    return undefined;
  }
  const action = actions[0]!;
  const selectors = raw[action];
  if (typeof selectors !== "object" || selectors === null || Array.isArray(selectors)) {
    if (!invalid.has([...base, action].join("/"))) report([...base, action], "rule-selectors", `${label}: '${action}' must be a mapping of selectors`);
    return undefined;
  }
  const entries = Object.entries(selectors as Record<string, unknown>);
  if (entries.length === 0) {
    report([...base, action], "empty-rule", `${label} has no selectors`, {
      hint: action === "delete" ? "to delete everything not kept, say so: 'delete: { all: true }'" : "to keep everything, say 'keep: { all: true }'",
    });
    return undefined;
  }
  const rule: Rule = { name: name ?? `#${index + 1}`, action, tests: [], phase: "first", references: [], builds: [], position: locate(source.doc, source.lines, base) };
  const fieldTests: FileTest[] = [];
  const otherTests: FileTest[] = [];
  const contributions: Contribution[] = [];
  const declared: Declared[] = [];
  const used = new Set<string>();
  for (const [key, value] of entries) {
    const path = [...base, action, key];
    const selector = SELECTORS_BY_NAME.get(key);
    if (!selector || invalid.has(path.join("/"))) continue;
    if (!selector.allowedIn.includes(action)) {
      report(path, "selector-placement", `'${key}' can only be used in a ${selector.allowedIn[0]} rule, and ${label} is a ${action} rule`, { key: true, ...hintOf(selector.placementHint) });
      continue;
    }
    used.add(key);
    if (selector.phase !== undefined && PHASES.indexOf(selector.phase) > PHASES.indexOf(rule.phase)) rule.phase = selector.phase;
    const contribution = selector.compile({
      value,
      ruleName: rule.name,
      action,
      report: (message, sub = []) => report([...path, ...sub], "invalid-selector", `${key}: ${message}`),
      warn: (code, message, sub = []) => report([...path, ...sub], code, `${label}: ${key}: ${message}`, { warning: true }),
      position: (sub = []) => locate(source.doc, source.lines, [...path, ...sub]),
    });
    if (!contribution) continue;
    contributions.push(contribution);
    if (contribution.test) (selector.comparesField ? fieldTests : otherTests).push(contribution.test);
    if (contribution.references) rule.references.push(...contribution.references);
    if (contribution.builds) rule.builds.push(contribution.builds);
    if (contribution.looksBackMs !== undefined) rule.looksBackMs = Math.max(rule.looksBackMs ?? 0, contribution.looksBackMs);
    if (contribution.admits) declared.push({ key, admitted: contribution.admits });
  }
  const written = (keys: readonly string[]) => keys.map((key) => `'${key}: ${writtenValue(selectors[key as keyof typeof selectors])}'`);
  const excluding = excludingEachOther(declared);
  // The min-age guard keeps every file younger than it, whatever a delete rule says.
  const minAge: Declared = { key: MIN_AGE_GUARD, admitted: { property: "age", range: { lower: { value: minAgeMs, inclusive: true } } } };
  const tooYoung = action === "delete" && !excluding ? excludingEachOther([...declared, minAge])?.filter((key) => key !== MIN_AGE_GUARD) : undefined;
  if (excluding) {
    const quoted = written(excluding);
    report([...base, action, excluding.at(-1)!], "never-matches", `${label} can never match: ${quoted.length === 1 ? `${quoted[0]} admits no file` : `${quoted.join(" and ")} exclude each other`}`, {
      key: true,
      warning: true,
    });
  } else if (tooYoung) {
    report(
      [...base, action, tooYoung.at(-1)!],
      "never-deletes",
      `${label} can never delete: ${written(tooYoung).join(" and ")} selects only files younger than the min-age guard (${formatDuration(minAgeMs)}), which keeps them`,
      {
        key: true,
        warning: true,
      },
    );
  }
  for (const key of used) {
    const needs = SELECTORS_BY_NAME.get(key)!.needsOneOf;
    if (needs && !needs.some((other) => used.has(other))) {
      const fitting = needs.filter((other) => SELECTORS_BY_NAME.get(other)?.allowedIn.includes(action));
      report([...base, action, key], "selector-needs", `${label}: '${key}' needs ${fitting.map((other) => `'${other}'`).join(" or ")}`, { key: true });
    }
  }
  rule.tests = [...fieldTests, ...otherTests];
  const group = contributions.find((contribution) => contribution.group)?.group;
  if (group) rule.group = { ...group, per: contributions.find((contribution) => contribution.per)?.per ?? [] };
  const budget = contributions.find((contribution) => contribution.budget)?.budget;
  if (budget) rule.budget = budget;
  return rule;
}
