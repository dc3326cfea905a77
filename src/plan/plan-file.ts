import { Buffer } from "node:buffer";
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { compareCodeUnits } from "../util/compare.ts";
import { isoTime, jsonString } from "../util/json-text.ts";
import type { Diagnostic } from "../policy/diagnostics.ts";
import type { ListingSource } from "../sources/source.ts";
import type { GuardResult } from "./guards.ts";
import type { Evaluation, Tally } from "./planner.ts";

export type { Tally } from "./planner.ts";

/**
 * Bumped on any incompatible change; other versions are refused, never guessed at.
 * 2: planned files name the archive their deletion depends on (`after`); plans may be signed.
 */
export const PLAN_FORMAT_VERSION = 2;

export interface PlannedFile {
  path: string;
  size: number;
  /** ISO 8601 with milliseconds. */
  mtime: string;
  etag?: string;
  rules: readonly string[];
  decidedBy: string;
  /** The planned archive this file goes with: if that one is not deleted, this one must stay too. */
  after?: string;
  /** When a log records a use later than the mtime: that use (ISO 8601 with milliseconds)… */
  lastUse?: string;
  /** …and where it is recorded: a log and its line, e.g. `access.log.1:1234`. */
  lastUseFrom?: string;
}

/**
 * The planned files of a plan: an array when read from a file, made on demand from the
 * evaluation when built (a million-file plan holds no object per file).
 */
export interface PlannedList extends Iterable<PlannedFile> {
  readonly length: number;
  at(index: number): PlannedFile | undefined;
}

export interface PlanSummary {
  delete: Tally;
  keep: Tally;
  unmanaged: Tally;
  byRule: { rule: string; action: "keep" | "delete"; matched: Tally; decided: Tally }[];
  /** The kept side by reason: each keep rule, then @min-age (too young to delete) and @default (no rule selected them). */
  keepByReason: ({ reason: string } & Tally)[];
  /** Deletions per kind, arch and recipe (top recipes by bytes). */
  deleteByKind: Record<string, Tally>;
  deleteByArch: ({ arch: string } & Tally)[];
  deleteTopRecipes: ({ pn: string } & Tally)[];
  /**
   * What the reviewer should know before approving (a rule that can never match or matched
   * nothing, a stamps directory naming no hash…), at its place in the policy; absent when there
   * is none, so that format-2 readers that predate it read the plan unchanged.
   */
  warnings?: Diagnostic[];
  /** Each `over-budget` rule's budget, what it found and left, and by how much it falls short (only with such rules). */
  budgets?: { rule: string; limitBytes: number; beforeBytes: number; afterBytes: number; shortfallBytes: number }[];
}

/** The listing a plan was made from. */
export interface PlannedListing {
  files: number;
  bytes: number;
  sha256: string;
  /**
   * Where the listing came from when it was not the target listed by `plan` (a saved listing, an
   * S3 Inventory report); absent otherwise, so that format-2 plans without it read unchanged.
   */
  source?: ListingSource;
}

export interface PlanFile {
  formatVersion: number;
  tool: { name: string; version: string };
  createdAt: string;
  now: string;
  expiresAt: string;
  target: string;
  policy: { path: string; sha256: string };
  listing: PlannedListing;
  summary: PlanSummary;
  guards: GuardResult[];
  refused: boolean;
  delete: PlannedList;
  keep?: PlannedList;
  /** sha256 over the canonical JSON of everything else but the signature: the plan digest reviewers see. */
  integrity: string;
  /** HMAC-SHA256 of the integrity digest with the plan key: proves `plan` made it with that key. */
  signature?: string;
}

/** A plan as read from a file: its planned files are plain arrays. */
export type StoredPlan = Omit<PlanFile, "delete" | "keep"> & { delete: PlannedFile[]; keep?: PlannedFile[] };

export interface PlanMetadata {
  tool: { name: string; version: string };
  createdAt: Date;
  now: Date;
  validForMs: number;
  target: string;
  policy: { path: string; sha256: string };
  listing: PlannedListing;
  warnings?: readonly Diagnostic[];
}

const TOP_RECIPES = 20;

/** `key`: the plan key (SSTATE_KEEPER_PLAN_KEY); with it the plan is signed. */
export function buildPlan(evaluation: Evaluation, meta: PlanMetadata, key?: string): PlanFile {
  const body: Omit<PlanFile, "integrity"> = {
    formatVersion: PLAN_FORMAT_VERSION,
    tool: meta.tool,
    createdAt: meta.createdAt.toISOString(),
    now: meta.now.toISOString(),
    expiresAt: new Date(meta.createdAt.getTime() + meta.validForMs).toISOString(),
    target: meta.target,
    policy: meta.policy,
    listing: meta.listing,
    summary: { ...summarize(evaluation), ...(meta.warnings?.length ? { warnings: [...meta.warnings] } : {}) },
    guards: evaluation.guards,
    refused: evaluation.refused,
    delete: new EvaluatedFiles(evaluation, evaluation.deleted),
    ...(evaluation.kept ? { keep: new EvaluatedFiles(evaluation, evaluation.kept) } : {}),
  };
  const integrity = integrityOf(body);
  return { ...body, integrity, ...(key !== undefined ? { signature: planSignature(integrity, key) } : {}) };
}

/** Planned files made from the evaluation when read: each one lives only while it is used. */
class EvaluatedFiles implements PlannedList {
  readonly #evaluation: Evaluation;
  readonly #indexes: Int32Array;

  constructor(evaluation: Evaluation, indexes: Int32Array) {
    this.#evaluation = evaluation;
    this.#indexes = indexes;
  }

  get length(): number {
    return this.#indexes.length;
  }

  at(index: number): PlannedFile | undefined {
    const i = this.#indexes.at(index);
    return i === undefined ? undefined : plannedFile(this.#evaluation, i);
  }

  *[Symbol.iterator](): Iterator<PlannedFile> {
    for (const i of this.#indexes) yield plannedFile(this.#evaluation, i);
  }

  /**
   * Each file's `canonicalPlannedFile` line, written from the columns without a PlannedFile:
   * the digest and the plan file read every line of plans with hundreds of thousands of files.
   */
  *canonicalLines(): Generator<string> {
    const evaluation = this.#evaluation;
    const { listing } = evaluation;
    // Few distinct rule lists and deciders exist (rulesOf shares one array per combination).
    const rulesJson = new Map<readonly string[], string>();
    const deciderJson = new Map<string, string>();
    for (const i of this.#indexes) {
      const rules = evaluation.rulesOf(i);
      let rulesText = rulesJson.get(rules);
      if (rulesText === undefined) rulesJson.set(rules, rulesText = JSON.stringify(rules));
      const decider = evaluation.decidedBy(i);
      let deciderText = deciderJson.get(decider);
      if (deciderText === undefined) deciderJson.set(decider, deciderText = `"decidedBy":${JSON.stringify(decider)},`);
      const after = evaluation.after(i);
      const etag = listing.etag(i);
      const used = evaluation.usedAt(i);
      yield `{${after >= 0 ? `"after":${jsonString(listing.path(after))},` : ""}${deciderText}${etag !== undefined ? `"etag":${jsonString(etag)},` : ""}${
        used.where !== undefined ? `"lastUse":"${isoTime(used.time)}","lastUseFrom":${jsonString(used.where)},` : ""
      }"mtime":"${isoTime(listing.mtimes[i]!)}","path":${jsonString(listing.path(i))},"rules":${rulesText},"size":${listing.sizes[i]!}}`;
    }
  }
}

const SIGNATURE_SCHEME = "hmac-sha256:";

/** The signature a plan with this integrity digest carries when made with `key`. */
export function planSignature(integrity: string, key: string): string {
  return SIGNATURE_SCHEME + createHmac("sha256", key).update(integrity).digest("hex");
}

/** Whether `plan` carries the signature `key` makes (compared in constant time). */
export function hasValidSignature(plan: Pick<PlanFile, "integrity" | "signature">, key: string): boolean {
  if (plan.signature === undefined) return false;
  const expected = Buffer.from(planSignature(plan.integrity, key));
  const given = Buffer.from(plan.signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function plannedFile(evaluation: Evaluation, i: number): PlannedFile {
  const { listing } = evaluation;
  const etag = listing.etag(i);
  const after = evaluation.after(i);
  const used = evaluation.usedAt(i);
  return {
    path: listing.path(i),
    size: listing.sizes[i]!,
    mtime: isoTime(listing.mtimes[i]!),
    ...(etag !== undefined ? { etag } : {}),
    rules: evaluation.rulesOf(i),
    decidedBy: evaluation.decidedBy(i),
    ...(after >= 0 ? { after: listing.path(after) } : {}),
    ...(used.where !== undefined ? { lastUse: isoTime(used.time), lastUseFrom: used.where } : {}),
  };
}

function summarize(evaluation: Evaluation): PlanSummary {
  const { listing } = evaluation;
  const byKind: Record<string, Tally> = {};
  const byArch = new Map<string, Tally>();
  const byRecipe = new Map<string, Tally>();
  const add = (map: Map<string, Tally>, key: string, size: number) => {
    const tally = map.get(key) ?? { files: 0, bytes: 0 };
    tally.files++;
    tally.bytes += size;
    map.set(key, tally);
  };
  for (const i of evaluation.deleted) {
    const size = listing.sizes[i]!;
    const kind = listing.kind(i)!;
    byKind[kind] ??= { files: 0, bytes: 0 };
    byKind[kind].files++;
    byKind[kind].bytes += size;
    add(byArch, listing.arch(i), size);
    add(byRecipe, listing.pn(i), size);
  }
  const biggestFirst = <K extends string>(map: Map<string, Tally>, key: K) =>
    [...map].map(([name, t]) => ({ [key]: name, ...t }) as { [P in K]: string } & Tally).sort((a, b) => b.bytes - a.bytes || (a[key] < b[key] ? -1 : 1));
  return {
    delete: { files: evaluation.deletedTally.files, bytes: evaluation.deletedTally.bytes },
    keep: { files: evaluation.keptTally.files, bytes: evaluation.keptTally.bytes },
    keepByReason: [...evaluation.keptTally.byReason].map(([reason, tally]) => ({ reason, ...tally })),
    unmanaged: evaluation.unmanaged,
    byRule: evaluation.rules.map(({ rule, action, matched, decided }) => ({ rule, action, matched, decided })),
    deleteByKind: byKind,
    deleteByArch: biggestFirst(byArch, "arch"),
    deleteTopRecipes: biggestFirst(byRecipe, "pn").slice(0, TOP_RECIPES),
    ...(evaluation.budgets.length > 0 ? { budgets: evaluation.budgets.map((budget) => ({ ...budget })) } : {}),
  };
}

/** JSON with sorted keys: the same bytes on every runtime for the same data. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, v: unknown) => v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => compareCodeUnits(a, b))) : v,
  );
}

/**
 * sha256 over the canonical JSON of the plan's head and of each planned file in turn: the
 * same digest as of the whole, without building one string the size of a million-file plan.
 */
export function integrityOf(body: Omit<PlanFile, "integrity" | "signature">): string {
  const { delete: deletions, keep, ...head } = body;
  const digest = createHash("sha256").update(canonicalJson(head));
  for (const list of [deletions, keep ?? []]) {
    let chunk = "\n";
    for (const line of canonicalLines(list)) {
      chunk += line;
      if (chunk.length > 1 << 16) {
        digest.update(chunk);
        chunk = "";
      }
    }
    digest.update(chunk);
  }
  return `sha256:${digest.digest("hex")}`;
}

/**
 * `canonicalJson(file)` written out for the one shape the plan schema allows a planned file:
 * the generic replacer sorted the keys of every one of a million files.
 */
export function canonicalPlannedFile(file: PlannedFile): string {
  const after = file.after !== undefined ? `"after":${JSON.stringify(file.after)},` : "";
  const etag = file.etag !== undefined ? `"etag":${JSON.stringify(file.etag)},` : "";
  const lastUse = file.lastUse !== undefined ? `"lastUse":${JSON.stringify(file.lastUse)},` : "";
  const lastUseFrom = file.lastUseFrom !== undefined ? `"lastUseFrom":${JSON.stringify(file.lastUseFrom)},` : "";
  return `{${after}"decidedBy":${JSON.stringify(file.decidedBy)},${etag}${lastUse}${lastUseFrom}"mtime":${JSON.stringify(file.mtime)},"path":${JSON.stringify(file.path)},"rules":${
    JSON.stringify(file.rules)
  },"size":${JSON.stringify(file.size)}}`;
}

/** The canonical line of each planned file, in order. */
function canonicalLines(files: Iterable<PlannedFile>): Iterable<string> {
  if (files instanceof EvaluatedFiles) return files.canonicalLines();
  return (function* () {
    for (const file of files) yield canonicalPlannedFile(file);
  })();
}

/**
 * Stable serialisation (two-space indent, one planned file per line in its canonical form, the
 * one the digest covers), in chunks so that a huge plan is never one string.
 */
export function* serializePlanChunks(plan: PlanFile): Generator<string> {
  const { delete: deletions, keep, integrity, signature, ...head } = plan;
  const placeholder = (name: string) => JSON.stringify(`\u0000${name}\u0000`);
  const skeleton = JSON.stringify({ ...head, delete: `\u0000delete\u0000`, ...(keep ? { keep: `\u0000keep\u0000` } : {}), integrity, ...(signature !== undefined ? { signature } : {}) }, null, 2);
  let rest = skeleton;
  for (const [name, files] of [["delete", deletions], ["keep", keep]] as const) {
    if (!files) continue;
    const at = rest.indexOf(placeholder(name));
    yield rest.slice(0, at);
    if (files.length === 0) yield "[]";
    else {
      yield "[\n";
      let written = 0;
      for (const line of canonicalLines(files)) yield `    ${line}${++written < files.length ? "," : ""}\n`;
      yield "  ]";
    }
    rest = rest.slice(at + placeholder(name).length);
  }
  yield `${rest}\n`;
}

export function serializePlan(plan: PlanFile): string {
  return [...serializePlanChunks(plan)].join("");
}
