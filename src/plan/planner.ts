import type { Policy, Rule } from "../policy/load.ts";
import { type EvaluationContext, type PerField, PHASES, type UseEvidence } from "../policy/selectors/selector.ts";
import type { BuildManifest } from "../sstate/build-manifest.ts";
import type { Listing } from "../sstate/listing.ts";
import { KIND, KIND_NAMES } from "../sstate/name.ts";
import { applyBudget, type BudgetOutcome } from "./budget.ts";
import { evaluateGuards, type GuardResult } from "./guards.ts";

/** Why a file is kept or deleted when no rule decided it. Rule names can't start with '@'. */
export const DEFAULT_KEEP = "@default";
export const MIN_AGE_KEEP = "@min-age";
export const FOLLOWS_ARCHIVE = "@follows-archive";
/** `decider` values below 0: the reasons that are not rules. */
const DECIDED = { byDefault: -1, minAge: -2, followsArchive: -3 } as const;
const REASON_NAMES: Record<number, string> = { [DECIDED.byDefault]: DEFAULT_KEEP, [DECIDED.minAge]: MIN_AGE_KEEP, [DECIDED.followsArchive]: FOLLOWS_ARCHIVE };

export interface PlanInput {
  listing: Listing;
  policy: Policy;
  now: number;
  /** Hashes named by each rule's stamps/hashes, by rule name. */
  referencedHashes: ReadonlyMap<string, ReadonlySet<string>>;
  /** Build manifests by `used-by-builds` location as written ("" for the plan's target); without them no build used anything. */
  builds?: ReadonlyMap<string, readonly BuildManifest[]>;
  /** Uses of files the evidence records; without it a file was last used when it was last modified. */
  uses?: UseEvidence;
  /** Also list every kept file (`--explain`); otherwise kept files are only counted. */
  explainKept?: boolean;
}

export interface Tally {
  files: number;
  bytes: number;
}

export interface RuleTally {
  rule: string;
  action: "keep" | "delete";
  matched: Tally;
  decided: Tally;
}

export interface KeptTally extends Tally {
  archives: number;
  /** Kept files by the reason they stay: each keep rule (policy order), then @min-age and @default. */
  byReason: Map<string, Tally>;
}

/** The decisions, by listing index: what the plan file, the renderers and `why` read. */
export interface Evaluation {
  listing: Listing;
  /** Indexes of the deleted files, in path order. */
  deleted: Int32Array;
  /** Indexes of the kept managed files, in path order (only with `explainKept`). */
  kept?: Int32Array;
  deletedTally: Tally & { archives: number };
  keptTally: KeptTally;
  unmanaged: Tally;
  rules: RuleTally[];
  /** What each `over-budget` rule did, in policy order (empty without one). */
  budgets: BudgetOutcome[];
  guards: GuardResult[];
  refused: boolean;
  /** Every rule that selected file `i`, in policy order. */
  rulesOf(i: number): readonly string[];
  /** The rule (or @reason) that decided file `i`. */
  decidedBy(i: number): string;
  /** The index of the planned archive file `i`'s deletion depends on, or -1. */
  after(i: number): number;
  /** Whether file `i` is deleted. */
  isDeleted(i: number): boolean;
  /** When file `i` was last used, and where the evidence recorded that use (none: its mtime). */
  usedAt(i: number): LastUse;
}

export interface LastUse {
  time: number;
  where?: string;
}

const State = { undecided: 0, keep: 1, delete: 2 } as const;

/**
 * The planner: a pure function of (listing, policy, now, evidence). Evaluation order (SPEC §2):
 * rules of the first phase, keep wins → min-age → rules of the orphan phase against the archives
 * that survive → .sig/.done follow deleted archives → budget rules take the least recently used
 * of what is left until it fits (their archives' .sig/.done follow too) → plan-level guards.
 */
export function evaluate({ listing, policy, now, referencedHashes, builds = new Map(), uses, explainKept = false }: PlanInput): Evaluation {
  const count = listing.count;
  const state = new Uint8Array(count);
  const decider = new Int32Array(count).fill(DECIDED.byDefault);
  const matched = policy.rules.map(() => new Uint8Array(count));
  const archiveOf = listing.archiveIndexes();
  const { lastUse, usedAt } = uses ? lastUseFromEvidence(listing, uses, archiveOf) : { lastUse: (i: number) => listing.mtimes[i]!, usedAt: (i: number) => ({ time: listing.mtimes[i]! }) };
  const context: EvaluationContext = {
    listing,
    now,
    tasksWithArchive: listing.tasksWithArchive(),
    referencedHashes,
    builds,
    archiveSurvives: (companion) => {
      const archive = archiveOf[companion]!;
      return archive >= 0 && state[archive] !== State.delete;
    },
    deletedByEarlierPhases: (i) => state[i] === State.delete,
    lastUse,
  };

  const young = (i: number) => now - listing.mtimes[i]! < policy.guards.minAgeMs;
  // The .sig and .done of a deleted archive go with it, unless a rule kept them.
  const followDeletedArchives = () => {
    for (let i = 0; i < count; i++) {
      const kind = listing.kinds[i];
      if (state[i] !== State.undecided || (kind !== KIND.signature && kind !== KIND.done)) continue;
      const archive = archiveOf[i]!;
      if (archive >= 0 && state[archive] === State.delete) {
        state[i] = State.delete;
        decider[i] = DECIDED.followsArchive;
      }
    }
  };
  const budgets: BudgetOutcome[] = [];

  // Each phase decides what earlier phases left undecided: keep wins across phases too.
  let undecidedByFirstPhase: Uint8Array | undefined;
  for (const phase of PHASES) {
    const rules = policy.rules.map((rule, index) => ({ rule, index })).filter(({ rule }) => rule.phase === phase);
    if (phase !== PHASES[0]) undecidedByFirstPhase ??= Uint8Array.from(state, (s) => (s === State.undecided ? 1 : 0));
    if (rules.length === 0) continue;
    select(rules, context, matched);
    const perFile = rules.filter(({ rule }) => !rule.budget);
    const keepRules = perFile.filter(({ rule }) => rule.action === "keep").map(({ index }) => index);
    const deleteRules = perFile.filter(({ rule }) => rule.action === "delete").map(({ index }) => index);
    for (let i = 0; i < count; i++) {
      if (state[i] !== State.undecided || listing.kinds[i] === KIND.unmanaged) continue;
      const keep = firstMatching(keepRules, matched, i);
      const drop = keep < 0 ? firstMatching(deleteRules, matched, i) : -1;
      if (keep >= 0) {
        state[i] = State.keep;
        decider[i] = keep;
      } else if (drop >= 0) {
        if (young(i)) {
          state[i] = State.keep;
          decider[i] = DECIDED.minAge;
        } else {
          state[i] = State.delete;
          decider[i] = drop;
        }
      }
    }
    // A budget measures what the other rules leave, companions of their deleted archives gone too.
    for (const { rule, index } of rules) {
      if (!rule.budget) continue;
      followDeletedArchives();
      const selected = matched[index]!;
      const outcome = applyBudget({
        context,
        selected,
        undecided: (i) => state[i] === State.undecided,
        deleted: (i) => state[i] === State.delete,
        young,
        limitBytes: rule.budget.bytes,
        rule: rule.name,
      });
      for (let i = 0; i < count; i++) {
        if (selected[i] !== 1) continue;
        state[i] = State.delete;
        decider[i] = index;
      }
      budgets.push(outcome);
    }
  }
  undecidedByFirstPhase ??= Uint8Array.from(state, (s) => (s === State.undecided ? 1 : 0));
  followDeletedArchives();

  /**
   * Archives are deleted by first-phase rules and budgets; what is deleted after the first phase
   * and is not itself an archive (an orphan, a .sig following its archive) goes because its
   * archive goes, when that archive is listed.
   */
  const after = (i: number) => {
    const archive = archiveOf[i]!;
    return state[i] === State.delete && undecidedByFirstPhase![i] === 1 && archive >= 0 && state[archive] === State.delete ? archive : -1;
  };

  const ruleNames = policy.rules.map((r) => r.name);
  const rulesOf = ruleSets(matched, ruleNames);
  const deleted: number[] = [];
  const kept: number[] | undefined = explainKept ? [] : undefined;
  const deletedTally = { files: 0, bytes: 0, archives: 0 };
  const keptTally: KeptTally = { files: 0, bytes: 0, archives: 0, byReason: new Map() };
  for (const rule of policy.rules) if (rule.action === "keep") keptTally.byReason.set(rule.name, { files: 0, bytes: 0 });
  for (const reason of [MIN_AGE_KEEP, DEFAULT_KEEP]) keptTally.byReason.set(reason, { files: 0, bytes: 0 });
  const unmanaged: Tally = { files: 0, bytes: 0 };
  const tallies: RuleTally[] = policy.rules.map((rule) => ({ rule: rule.name, action: rule.action, matched: { files: 0, bytes: 0 }, decided: { files: 0, bytes: 0 } }));
  const decidedBy = (i: number) => (decider[i]! >= 0 ? ruleNames[decider[i]!]! : REASON_NAMES[decider[i]!]!);
  for (let i = 0; i < count; i++) {
    const size = listing.sizes[i]!;
    const kind = listing.kinds[i]!;
    if (kind === KIND.unmanaged) {
      add(unmanaged, size);
      continue;
    }
    if (state[i] === State.delete) {
      deleted.push(i);
      add(deletedTally, size);
      if (kind === KIND.archive) deletedTally.archives++;
    } else {
      add(keptTally, size);
      if (kind === KIND.archive) keptTally.archives++;
      add(keptTally.byReason.get(decidedBy(i))!, size);
      kept?.push(i);
    }
    for (let r = 0; r < tallies.length; r++) if (matched[r]![i]) add(tallies[r]!.matched, size);
    if (decider[i]! >= 0) add(tallies[decider[i]!]!.decided, size);
  }

  const guards = evaluateGuards(policy.guards, { deleted: deletedTally, kept: keptTally, minAgeProtected: keptTally.byReason.get(MIN_AGE_KEEP)!.files, budgets });
  return {
    listing,
    deleted: Int32Array.from(deleted),
    ...(kept ? { kept: Int32Array.from(kept) } : {}),
    deletedTally,
    keptTally,
    unmanaged,
    rules: tallies,
    budgets,
    guards,
    refused: guards.some((g) => g.verdict === "refused"),
    rulesOf,
    decidedBy,
    after,
    isDeleted: (i) => state[i] === State.delete,
    usedAt,
  };
}

/**
 * The latest of a file's mtime and its recorded uses. bitbake fetches an archive's .siginfo
 * with it and checks .sig/.done only beside it, so a use of the archive is a use of its
 * companions; a companion's own use does not keep its archive.
 */
function lastUseFromEvidence(listing: Listing, uses: UseEvidence, archiveOf: Int32Array): { lastUse(i: number): number; usedAt(i: number): LastUse } {
  // Each path is looked up once (making a path is the costly part); selectors and orderings by last use then read a column.
  let recordedAt: Float64Array | undefined;
  const recorded = (i: number) => {
    if (!recordedAt) {
      recordedAt = new Float64Array(listing.count);
      for (let j = 0; j < listing.count; j++) recordedAt[j] = uses.latestUse(listing.path(j)) ?? -Infinity;
    }
    return recordedAt[i]!;
  };
  const viaArchive = (i: number) => (archiveOf[i]! >= 0 ? recorded(archiveOf[i]!) : -Infinity);
  const lastUse = (i: number) => Math.max(listing.mtimes[i]!, recorded(i), viaArchive(i));
  return {
    lastUse,
    usedAt: (i) => {
      const time = lastUse(i);
      if (time === listing.mtimes[i]!) return { time };
      const where = uses.whereUsed?.(listing.path(recorded(i) === time ? i : archiveOf[i]!));
      return where === undefined ? { time } : { time, where };
    },
  };
}

function add(tally: Tally, size: number): void {
  tally.files++;
  tally.bytes += size;
}

/** Few distinct combinations of selecting rules exist: one shared list per combination. */
function ruleSets(matched: readonly Uint8Array[], ruleNames: readonly string[]): (i: number) => readonly string[] {
  const lists = new Map<string, string[]>();
  return (i) => {
    let key = "";
    for (let r = 0; r < matched.length; r++) if (matched[r]![i]) key += `${r},`;
    let rules = lists.get(key);
    if (!rules) {
      rules = ruleNames.filter((_, r) => matched[r]![i]);
      lists.set(key, rules);
    }
    return rules;
  };
}

/** The first rule (in policy order) among `rules` that selected file `i`, or -1. */
function firstMatching(rules: readonly number[], matched: readonly Uint8Array[], i: number): number {
  for (const rule of rules) if (matched[rule]![i]) return rule;
  return -1;
}

/**
 * Marks, in `matched`, the files each rule of a phase selects: all its tests, then its
 * newest/except-newest limit. One pass over the files for all rules of the phase.
 */
function select(phase: readonly { rule: Rule; index: number }[], context: EvaluationContext, matched: readonly Uint8Array[]): void {
  const { listing } = context;
  const hits = phase.map(() => [] as number[]);
  for (let i = 0; i < listing.count; i++) {
    if (listing.kinds[i] === KIND.unmanaged) continue;
    next: for (let r = 0; r < phase.length; r++) {
      const { rule, index } = phase[r]!;
      for (const test of rule.tests) if (!test(i, context)) continue next;
      if (rule.group) hits[r]!.push(i);
      else matched[index]![i] = 1;
    }
  }
  phase.forEach(({ rule, index }, r) => {
    if (!rule.group) return;
    const { mode, count, per } = rule.group;
    const { members, starts } = newestFirstGroups(hits[r]!, groupingFields(per), listing);
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

/**
 * A `per` field: its value for file `i`, a dictionary number where the listing has one, else a
 * string; `range`, when the numbers run from 0 to below it (then they index a table, not a map).
 */
interface GroupingField {
  value(listing: Listing, i: number): string | number;
  range?(listing: Listing): number;
}

const PER_FIELDS: Record<PerField, GroupingField> = {
  pn: { value: (l, i) => l.pn(i) },
  arch: { value: (l, i) => l.arch(i) },
  task: { value: (l, i) => l.tasks[i]!, range: (l) => l.names.tasks.length },
  kind: { value: (l, i) => l.kinds[i]!, range: () => KIND_NAMES.length },
  suffix: { value: (l, i) => l.suffix(i) },
  pv: { value: (l, i) => l.pv(i) },
  pr: { value: (l, i) => l.pr(i) },
  hash: { value: (l, i) => l.hash(i) },
  nativelsb: { value: (l, i) => l.nativelsb(i) },
};
const TASK_FIELDS: readonly PerField[] = ["pn", "arch", "task"];
const TASK_KEY_FIELD: GroupingField = { value: (l, i) => l.taskKeys[i]!, range: (l) => l.names.taskKeyCount };
/** (group, value) pairs numbered through a table up to this size (16 MiB of Int32), else a map. */
const MAX_PAIR_TABLE = 1 << 22;

/** The `per` fields as grouping levels; pn+arch+task together are one level, keyed by the taskKey. */
function groupingFields(per: readonly PerField[]): GroupingField[] {
  const byTask = TASK_FIELDS.every((field) => per.includes(field));
  const rest = byTask ? per.filter((field) => !TASK_FIELDS.includes(field)) : per;
  return [...(byTask ? [TASK_KEY_FIELD] : []), ...rest.map((field) => PER_FIELDS[field])];
}

/** Numbers values densely from 0 in order of first appearance: through a table when they are known to lie below `range`. */
function numbering(range: number | undefined): { idOf(value: string | number): number; readonly size: number } {
  if (range === undefined) {
    const ids = new Map<string | number, number>();
    return {
      idOf: (value) => {
        let id = ids.get(value);
        if (id === undefined) ids.set(value, id = ids.size);
        return id;
      },
      get size() {
        return ids.size;
      },
    };
  }
  const ids = new Int32Array(range).fill(-1);
  let size = 0;
  return {
    idOf: (value) => (ids[value as number]! >= 0 ? ids[value as number]! : (ids[value as number] = size++)),
    get size() {
      return size;
    },
  };
}

/** Groups of the given files by the `per` fields, newest first: what `newest` and `except-newest` count in (info counts duplicates with it). */
export function groupsNewestFirst(listing: Listing, indexes: readonly number[], per: readonly PerField[]): { members: Int32Array; starts: Int32Array } {
  return newestFirstGroups(indexes, groupingFields(per), listing);
}

/**
 * Groups listing indexes by the values of `fields`: `members` holds each group's indexes,
 * newest first (equal mtimes in path order, which is index order), from `starts[g]` to
 * `starts[g + 1]`. Each field's values are numbered and folded into one dense group number
 * per file, so half a million groups cost a few typed arrays, not a map and an array each.
 */
function newestFirstGroups(indexes: readonly number[], fields: readonly GroupingField[], listing: Listing): { members: Int32Array; starts: Int32Array } {
  const n = indexes.length;
  let groupOf = new Int32Array(n);
  let groups = n > 0 ? 1 : 0;
  for (const field of fields) {
    const valueIds = numbering(field.range?.(listing));
    const valueOf = new Int32Array(n);
    for (let j = 0; j < n; j++) valueOf[j] = valueIds.idOf(field.value(listing, indexes[j]!));
    if (groups === 1) {
      groupOf = valueOf;
      groups = valueIds.size;
      continue;
    }
    // (group, value) as one number below groups × values, numbered again.
    const values = valueIds.size;
    const pairs = numbering(groups * values <= MAX_PAIR_TABLE ? groups * values : undefined);
    for (let j = 0; j < n; j++) groupOf[j] = pairs.idOf(groupOf[j]! * values + valueOf[j]!);
    groups = pairs.size;
  }
  // Counting sort by group keeps index order inside each group.
  const starts = new Int32Array(groups + 1);
  for (let j = 0; j < n; j++) starts[groupOf[j]! + 1]!++;
  for (let g = 0; g < groups; g++) starts[g + 1]! += starts[g]!;
  const members = new Int32Array(n);
  const next = starts.slice(0, groups);
  for (let j = 0; j < n; j++) members[next[groupOf[j]!]!++] = indexes[j]!;
  const mtimes = listing.mtimes;
  const newerFirst = (a: number, b: number) => mtimes[b]! - mtimes[a]! || a - b;
  for (let g = 0; g < groups; g++) {
    const from = starts[g]!;
    const to = starts[g + 1]!;
    if (to - from > SMALL_GROUP) members.subarray(from, to).sort(newerFirst);
    else sortSmallRange(members, from, to, newerFirst);
  }
  return { members, starts };
}
