/**
 * What changed between two plans (e.g. the one a reviewer approved and a fresh one): files
 * newly deleted, no longer deleted, and deleted by a different rule. One walk over the two
 * delete lists, which plans keep in path order: linear time, and no memory per file.
 */
import { compareCodeUnits } from "../util/compare.ts";
import type { PlanFile, PlannedFile, Tally } from "./plan-file.ts";
import { PlanFileError } from "./read-plan.ts";

export type PlanChange =
  | { change: "newly-deleted"; file: PlannedFile }
  | { change: "no-longer-deleted"; file: PlannedFile }
  /** Deleted by both, decided by another rule: `file` as the new plan has it. */
  | { change: "other-rule"; file: PlannedFile; previous: PlannedFile };

export type ChangeKind = PlanChange["change"];
export const CHANGE_KINDS: readonly ChangeKind[] = ["newly-deleted", "no-longer-deleted", "other-rule"];

/** A plan as the diff names it: the user's name for it and the plan. */
export interface DiffSide {
  source: string;
  plan: PlanFile;
}

/** What a reviewer checks of each plan before reading the changes. */
export interface PlanHead {
  source: string;
  digest: string;
  createdAt: string;
  now: string;
  target: string;
  policy: { path: string; sha256: string };
  listing: Tally;
  delete: Tally;
  refused: boolean;
}

export interface RuleChanges {
  rule: string;
  /** Newly deleted files this rule decides in the new plan. */
  newlyDeleted: Tally;
  /** Files no longer deleted that this rule decided in the old plan. */
  noLongerDeleted: Tally;
}

export interface PlanDiff {
  old: PlanHead;
  new: PlanHead;
  tallies: Record<ChangeKind, Tally>;
  /** Files and bytes the new plan deletes beyond the old one (negative: fewer). */
  net: Tally;
  /** Each rule that newly deletes or no longer deletes something, in name order. */
  byRule: RuleChanges[];
  /** Rule-to-rule moves of files both plans delete, biggest first. */
  moves: ({ from: string; to: string } & Tally)[];
}

/** The changes in path order. Plans not in path order (not written by `plan`) are refused: their diff would be wrong. */
function* planChanges(older: DiffSide, newer: DiffSide): Generator<PlanChange> {
  const olds = ordered(older);
  const news = ordered(newer);
  let a = olds.next();
  let b = news.next();
  while (!a.done || !b.done) {
    const order = a.done ? 1 : b.done ? -1 : compareCodeUnits(a.value.path, b.value.path);
    if (order < 0) {
      yield { change: "no-longer-deleted", file: a.value! };
      a = olds.next();
    } else if (order > 0) {
      yield { change: "newly-deleted", file: b.value! };
      b = news.next();
    } else {
      if (a.value!.decidedBy !== b.value!.decidedBy) yield { change: "other-rule", file: b.value!, previous: a.value! };
      a = olds.next();
      b = news.next();
    }
  }
}

function* ordered({ source, plan }: DiffSide): Generator<PlannedFile, void> {
  let last: string | undefined;
  for (const file of plan.delete) {
    if (last !== undefined && compareCodeUnits(last, file.path) >= 0) {
      throw new PlanFileError(
        `${source}: the files to delete are not in path order (${JSON.stringify(file.path).slice(0, 200)} follows ${
          JSON.stringify(last).slice(0, 200)
        }); 'sstate-keeper plan' writes them in order — make a new plan`,
      );
    }
    last = file.path;
    yield file;
  }
}

/** The summary of two plans' differences, and their changes to walk again as often as a rendering needs. */
export interface PlanComparison {
  diff: PlanDiff;
  old: PlanFile;
  new: PlanFile;
  changes(): Generator<PlanChange>;
}

export function comparePlans(older: DiffSide, newer: DiffSide): PlanComparison {
  return { diff: diffPlans(older, newer), old: older.plan, new: newer.plan, changes: () => planChanges(older, newer) };
}

function diffPlans(older: DiffSide, newer: DiffSide): PlanDiff {
  const tallies = Object.fromEntries(CHANGE_KINDS.map((kind) => [kind, { files: 0, bytes: 0 }])) as Record<ChangeKind, Tally>;
  const rules = new Map<string, RuleChanges>();
  const moves = new Map<string, { from: string; to: string } & Tally>();
  const ruleEntry = (rule: string) => {
    let entry = rules.get(rule);
    if (!entry) rules.set(rule, entry = { rule, newlyDeleted: { files: 0, bytes: 0 }, noLongerDeleted: { files: 0, bytes: 0 } });
    return entry;
  };
  for (const change of planChanges(older, newer)) {
    const { size } = change.file;
    add(tallies[change.change], size);
    if (change.change === "newly-deleted") add(ruleEntry(change.file.decidedBy).newlyDeleted, size);
    else if (change.change === "no-longer-deleted") add(ruleEntry(change.file.decidedBy).noLongerDeleted, size);
    else {
      const key = `${change.previous.decidedBy}\u0000${change.file.decidedBy}`;
      let move = moves.get(key);
      if (!move) moves.set(key, move = { from: change.previous.decidedBy, to: change.file.decidedBy, files: 0, bytes: 0 });
      add(move, size);
    }
  }
  return {
    old: headOf(older),
    new: headOf(newer),
    tallies,
    net: { files: tallies["newly-deleted"].files - tallies["no-longer-deleted"].files, bytes: tallies["newly-deleted"].bytes - tallies["no-longer-deleted"].bytes },
    byRule: [...rules.values()].sort((x, y) => compareCodeUnits(x.rule, y.rule)),
    moves: [...moves.values()].sort((x, y) => y.bytes - x.bytes || compareCodeUnits(x.from, y.from) || compareCodeUnits(x.to, y.to)),
  };
}

function headOf({ source, plan }: DiffSide): PlanHead {
  return {
    source,
    digest: plan.integrity,
    createdAt: plan.createdAt,
    now: plan.now,
    target: plan.target,
    policy: plan.policy,
    listing: { files: plan.listing.files, bytes: plan.listing.bytes },
    delete: plan.summary.delete,
    refused: plan.refused,
  };
}

function add(tally: Tally, size: number): void {
  tally.files++;
  tally.bytes += size;
}
