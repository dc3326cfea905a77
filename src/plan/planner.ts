import type { Policy, Rule } from "../policy/load.ts";
import { companionArchiveIndexes, type ListedFile, type Listing, type ManagedFile } from "../sstate/listing.ts";
import type { TaskKey } from "../sstate/name.ts";
import { evaluateGuards, type GuardResult } from "./guards.ts";
import { PER_FIELDS, type PerField } from "../policy/selectors/newest.ts";
import type { EvaluationContext } from "../policy/selectors/selector.ts";

/** Why a file is kept or deleted when no rule decided it. Rule names can't start with '@'. */
export const DEFAULT_KEEP = "@default";
export const MIN_AGE_KEEP = "@min-age";
export const FOLLOWS_ARCHIVE = "@follows-archive";

export interface PlanInput {
  listing: Listing;
  policy: Policy;
  now: number;
  /** Hashes named by each rule's stamps/hashes, by rule name. */
  referencedHashes: ReadonlyMap<string, ReadonlySet<string>>;
  /** Also return a decision for every kept file (`--explain`); otherwise kept files are only counted. */
  explainKept?: boolean;
}

export interface FileDecision {
  file: ManagedFile;
  /** Every rule that selected the file, in policy order. */
  rules: string[];
  decidedBy: string;
  /**
   * The archive whose deletion this one's depends on: a .sig/.done following it, or an `orphan`
   * companion of an archive this plan deletes. If that archive stays, this file must stay too.
   */
  after?: ManagedFile;
}

export interface RuleTally {
  rule: string;
  action: "keep" | "delete";
  matchedFiles: number;
  matchedBytes: number;
  decidedFiles: number;
  decidedBytes: number;
}

export interface KeptTally {
  files: number;
  bytes: number;
  archives: number;
  /** Kept files by the reason they stay: each keep rule (policy order), then @min-age and @default. */
  byReason: Map<string, { files: number; bytes: number }>;
}

export interface Evaluation {
  /** Sorted by path. */
  deleted: FileDecision[];
  /** Sorted by path; every managed file that is kept (only with `explainKept`). */
  kept?: FileDecision[];
  keptTally: KeptTally;
  unmanaged: ListedFile[];
  rules: RuleTally[];
  guards: GuardResult[];
  refused: boolean;
}

const State = { undecided: 0, keep: 1, delete: 2 } as const;

/**
 * The planner: a pure function of (listing, policy, now, referenced hashes). Evaluation order
 * (SPEC §2): rules without `orphan`, keep wins → min-age → `orphan` rules against the
 * archives that survive → .sig/.done follow deleted archives → plan-level guards.
 */
export function evaluate({ listing, policy, now, referencedHashes, explainKept = false }: PlanInput): Evaluation {
  const files = listing.files;
  const count = files.length;
  const state = new Uint8Array(count);
  const decider = new Int32Array(count).fill(-1);
  const matched = policy.rules.map(() => new Uint8Array(count));
  const archiveOf = companionArchiveIndexes(files);
  const tasksWithArchive = new Set<TaskKey>();
  for (const file of files) if (file.name?.kind === "archive") tasksWithArchive.add(file.name.taskKey);

  const context: EvaluationContext = {
    now,
    tasksWithArchive,
    referencedHashes,
    archiveSurvives: (companionIndex) => {
      const archive = archiveOf[companionIndex]!;
      return archive >= 0 && state[archive] !== State.delete;
    },
  };

  const firstPhase = policy.rules.map((rule, index) => ({ rule, index })).filter(({ rule }) => !rule.orphan);
  const orphanPhase = policy.rules.map((rule, index) => ({ rule, index })).filter(({ rule }) => rule.orphan);
  const minAgeProtected: number[] = [];

  const resolve = (phase: { rule: Rule; index: number }[], candidates: (i: number) => boolean) => {
    select(phase, files, context, matched);
    const keepRules = phase.filter(({ rule }) => rule.action === "keep").map(({ index }) => index);
    const deleteRules = phase.filter(({ rule }) => rule.action === "delete").map(({ index }) => index);
    for (let i = 0; i < count; i++) {
      if (!files[i]!.name || !candidates(i)) continue;
      const keep = firstMatching(keepRules, matched, i);
      const drop = keep < 0 ? firstMatching(deleteRules, matched, i) : -1;
      if (keep >= 0) {
        state[i] = State.keep;
        decider[i] = keep;
      } else if (drop >= 0) {
        if (now - files[i]!.mtimeMs < policy.guards.minAgeMs) {
          state[i] = State.keep;
          minAgeProtected.push(i);
        } else {
          state[i] = State.delete;
          decider[i] = drop;
        }
      }
    }
  };

  resolve(firstPhase, () => true);
  // Files already kept by a first-phase keep rule or by min-age stay kept: keep wins across phases.
  const undecidedByFirstPhase = Uint8Array.from(state, (s) => (s === State.undecided ? 1 : 0));
  resolve(orphanPhase, (i) => undecidedByFirstPhase[i] === 1);

  const followers: number[] = [];
  for (let i = 0; i < count; i++) {
    const name = files[i]!.name;
    if (!name || state[i] !== State.undecided || (name.kind !== "signature" && name.kind !== "done")) continue;
    const archive = archiveOf[i]!;
    if (archive >= 0 && state[archive] === State.delete) followers.push(i);
  }
  for (const i of followers) state[i] = State.delete;
  /**
   * Only the first phase deletes archives; what is deleted after it (by an orphan rule, or
   * following the archive) goes because its archive goes, when that archive is listed.
   */
  const archiveDependedOn = (i: number) => {
    const archive = archiveOf[i]!;
    return undecidedByFirstPhase[i] === 1 && archive >= 0 && state[archive] === State.delete ? archive : -1;
  };

  const minAge = new Set(minAgeProtected);
  const followerSet = new Set(followers);
  const ruleNames = policy.rules.map((r) => r.name);
  // Few distinct combinations of selecting rules exist: share one array per combination.
  const ruleLists = new Map<string, string[]>();
  const rulesOf = (i: number): string[] => {
    let key = "";
    for (let r = 0; r < matched.length; r++) if (matched[r]![i]) key += `${r},`;
    let rules = ruleLists.get(key);
    if (!rules) {
      rules = ruleNames.filter((_, r) => matched[r]![i]);
      ruleLists.set(key, rules);
    }
    return rules;
  };
  const decisionOf = (i: number): FileDecision => {
    const decision: FileDecision = {
      file: files[i] as ManagedFile,
      rules: rulesOf(i),
      decidedBy: decider[i]! >= 0 ? ruleNames[decider[i]!]! : minAge.has(i) ? MIN_AGE_KEEP : followerSet.has(i) ? FOLLOWS_ARCHIVE : DEFAULT_KEEP,
    };
    const archive = state[i] === State.delete ? archiveDependedOn(i) : -1;
    if (archive >= 0) decision.after = files[archive] as ManagedFile;
    return decision;
  };

  const deleted: FileDecision[] = [];
  const kept: FileDecision[] | undefined = explainKept ? [] : undefined;
  const keptTally: KeptTally = { files: 0, bytes: 0, archives: 0, byReason: new Map() };
  for (const reason of [...policy.rules.filter((rule) => rule.action === "keep").map((rule) => rule.name), MIN_AGE_KEEP, DEFAULT_KEEP]) keptTally.byReason.set(reason, { files: 0, bytes: 0 });
  const unmanaged: ListedFile[] = [];
  const tallies: RuleTally[] = policy.rules.map((rule) => ({ rule: rule.name, action: rule.action, matchedFiles: 0, matchedBytes: 0, decidedFiles: 0, decidedBytes: 0 }));
  for (let i = 0; i < count; i++) {
    const file = files[i]!;
    if (!file.name) {
      unmanaged.push(file);
      continue;
    }
    if (state[i] === State.delete) deleted.push(decisionOf(i));
    else {
      keptTally.files++;
      keptTally.bytes += file.size;
      if (file.name.kind === "archive") keptTally.archives++;
      const reason = keptTally.byReason.get(decider[i]! >= 0 ? ruleNames[decider[i]!]! : minAge.has(i) ? MIN_AGE_KEEP : DEFAULT_KEEP)!;
      reason.files++;
      reason.bytes += file.size;
      kept?.push(decisionOf(i));
    }
    for (let r = 0; r < tallies.length; r++) {
      if (matched[r]![i]) {
        tallies[r]!.matchedFiles++;
        tallies[r]!.matchedBytes += file.size;
      }
    }
    if (decider[i]! >= 0) {
      tallies[decider[i]!]!.decidedFiles++;
      tallies[decider[i]!]!.decidedBytes += file.size;
    }
  }

  const deletedTotals = { files: deleted.length, bytes: 0, archives: 0 };
  for (const { file } of deleted) {
    deletedTotals.bytes += file.size;
    if (file.name.kind === "archive") deletedTotals.archives++;
  }
  const guards = evaluateGuards(policy.guards, { deleted: deletedTotals, kept: keptTally, minAgeProtected: minAgeProtected.length });
  return { deleted, ...(kept ? { kept } : {}), keptTally, unmanaged, rules: tallies, guards, refused: guards.some((g) => g.verdict === "refused") };
}

/** The first rule (in policy order) among `rules` that selected file `i`, or -1. */
function firstMatching(rules: readonly number[], matched: readonly Uint8Array[], i: number): number {
  for (const rule of rules) if (matched[rule]![i]) return rule;
  return -1;
}

/**
 * Marks, in `matched`, the files each rule of a phase selects: all its filters, then its
 * newest/except-newest limit. One pass over the files for all rules: a million file records
 * are read from memory once instead of once per rule.
 */
function select(phase: readonly { rule: Rule; index: number }[], files: readonly ListedFile[], context: EvaluationContext, matched: readonly Uint8Array[]): void {
  const hits = phase.map(() => [] as number[]);
  for (let i = 0; i < files.length; i++) {
    const file = files[i]!;
    if (!file.name) continue;
    next: for (let r = 0; r < phase.length; r++) {
      const { rule, index } = phase[r]!;
      for (const test of rule.filters) if (!test(file as ManagedFile, context, i)) continue next;
      if (rule.group) hits[r]!.push(i);
      else matched[index]![i] = 1;
    }
  }
  phase.forEach(({ rule, index }, r) => {
    if (!rule.group) return;
    const { mode, count, per } = rule.group;
    const { members, starts } = newestFirstGroups(hits[r]!, groupingFields(per), files);
    for (let g = 0; g + 1 < starts.length; g++) {
      const newestEnd = Math.min(starts[g]! + count, starts[g + 1]!);
      const [from, to] = mode === "newest" ? [starts[g]!, newestEnd] : [newestEnd, starts[g + 1]!];
      for (let m = from; m < to; m++) matched[index]![members[m]!] = 1;
    }
  });
}

/** Most groups hold a few hash generations: sorted in place, without a view object each. */
const SMALL_GROUP = 16;

function sortSmallRange(items: Int32Array, from: number, to: number, compare: (a: number, b: number) => number): void {
  for (let i = from + 1; i < to; i++) {
    const item = items[i]!;
    let j = i - 1;
    for (; j >= from && compare(items[j]!, item) > 0; j--) items[j + 1] = items[j]!;
    items[j + 1] = item;
  }
}

type GroupingField = (file: ManagedFile) => string | number;
const TASK_FIELDS: readonly PerField[] = ["pn", "arch", "task"];

/** The `per` fields as map levels; pn+arch+task together are one level, keyed by the name's taskKey. */
function groupingFields(per: readonly PerField[]): GroupingField[] {
  const byTask = TASK_FIELDS.every((field) => per.includes(field));
  const rest = byTask ? per.filter((field) => !TASK_FIELDS.includes(field)) : per;
  return [...(byTask ? [(file: ManagedFile) => file.name.taskKey] : []), ...rest.map((field) => PER_FIELDS[field])];
}

/**
 * Groups listing indexes by the values of `fields`: `members` holds each group's indexes,
 * newest first (equal mtimes in path order, which is index order), from `starts[g]` to
 * `starts[g + 1]`. Each field's values are numbered and folded into one dense group number
 * per file, so half a million groups cost a few typed arrays, not a map and an array each.
 */
function newestFirstGroups(indexes: readonly number[], fields: readonly GroupingField[], files: readonly ListedFile[]): { members: Int32Array; starts: Int32Array } {
  const n = indexes.length;
  let groupOf = new Int32Array(n);
  let groups = n > 0 ? 1 : 0;
  for (const field of fields) {
    const valueIds = new Map<string | number, number>();
    const valueOf = new Int32Array(n);
    for (let j = 0; j < n; j++) {
      const value = field(files[indexes[j]!] as ManagedFile);
      let valueId = valueIds.get(value);
      if (valueId === undefined) valueIds.set(value, (valueId = valueIds.size));
      valueOf[j] = valueId;
    }
    if (groups === 1) {
      groupOf = valueOf;
      groups = valueIds.size;
      continue;
    }
    // (group, value) as one number below groups × values: usually a small integer, which a Map hashes cheaply.
    const values = valueIds.size;
    const pairs = new Map<number, number>();
    for (let j = 0; j < n; j++) {
      const pair = groupOf[j]! * values + valueOf[j]!;
      let group = pairs.get(pair);
      if (group === undefined) pairs.set(pair, (group = pairs.size));
      groupOf[j] = group;
    }
    groups = pairs.size;
  }
  // Counting sort by group keeps index order inside each group.
  const starts = new Int32Array(groups + 1);
  for (let j = 0; j < n; j++) starts[groupOf[j]! + 1]!++;
  for (let g = 0; g < groups; g++) starts[g + 1]! += starts[g]!;
  const members = new Int32Array(n);
  const next = starts.slice(0, groups);
  for (let j = 0; j < n; j++) members[next[groupOf[j]!]!++] = indexes[j]!;
  const newerFirst = (a: number, b: number) => files[b]!.mtimeMs - files[a]!.mtimeMs || a - b;
  for (let g = 0; g < groups; g++) {
    const from = starts[g]!;
    const to = starts[g + 1]!;
    if (to - from > SMALL_GROUP) members.subarray(from, to).sort(newerFirst);
    else sortSmallRange(members, from, to, newerFirst);
  }
  return { members, starts };
}
