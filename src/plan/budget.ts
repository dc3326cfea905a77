/**
 * The size budget (`over-budget`): after every other rule, the least recently used files a
 * budget rule selects go, each archive with its .sig and .done, until the managed files left fit.
 */
import type { EvaluationContext } from "../policy/selectors/selector.ts";
import { isCompanionKind, KIND } from "../sstate/name.ts";

/** What one budget rule did, for the plan's summary and the `budget-must-fit` guard. */
export interface BudgetOutcome {
  rule: string;
  limitBytes: number;
  /** Managed bytes left by the rules before it. */
  beforeBytes: number;
  /** Managed bytes left after it (its archives' .sig and .done counted as gone). */
  afterBytes: number;
  /** By how much the budget is not met (0 when it fits). */
  shortfallBytes: number;
}

export interface BudgetInput {
  context: EvaluationContext;
  /** The files the rule's other selectors match (1 each); on return, only the ones it deletes. */
  selected: Uint8Array;
  /** Whether file `i` is still undecided (neither kept nor deleted by anything so far). */
  undecided(i: number): boolean;
  /** Whether file `i` is deleted so far (or follows a deleted archive). */
  deleted(i: number): boolean;
  /** Whether min-age protects file `i`. */
  young(i: number): boolean;
  limitBytes: number;
  rule: string;
}

/**
 * Picks the deletions of one budget rule into `selected`. The unit is an archive with its
 * undecided .sig and .done (which follow it as they follow any deleted archive), or a managed
 * file without a listed archive; its last use is the latest of its files'. Units go in order of
 * last use, ties by path, while the managed total exceeds the limit. Deterministic: a pure
 * function of the listing, the evidence and the decisions so far.
 */
export function applyBudget({ context, selected, undecided, deleted, young, limitBytes, rule }: BudgetInput): BudgetOutcome {
  const { listing } = context;
  const count = listing.count;
  const archiveOf = listing.archiveIndexes();
  let beforeBytes = 0;
  for (let i = 0; i < count; i++) if (listing.kinds[i] !== KIND.unmanaged && !deleted(i)) beforeBytes += listing.sizes[i]!;
  const outcome = { rule, limitBytes, beforeBytes, afterBytes: beforeBytes, shortfallBytes: Math.max(0, beforeBytes - limitBytes) };

  const heads: number[] = [];
  for (let i = 0; i < count; i++) {
    if (selected[i] !== 1) continue;
    selected[i] = 0;
    if (!undecided(i) || young(i) || (isCompanionKind(listing.kinds[i]!) && archiveOf[i]! >= 0)) continue;
    heads.push(i);
  }
  if (outcome.shortfallBytes === 0 || heads.length === 0) return outcome;

  const isHead = new Uint8Array(count);
  const unitBytes = new Float64Array(count);
  const unitLastUse = new Float64Array(count);
  for (const head of heads) {
    isHead[head] = 1;
    unitBytes[head] = listing.sizes[head]!;
    unitLastUse[head] = context.lastUse(head);
  }
  for (let i = 0; i < count; i++) {
    const archive = archiveOf[i]!;
    if (archive < 0 || isHead[archive] === 0) continue;
    const kind = listing.kinds[i];
    if ((kind === KIND.signature || kind === KIND.done) && undecided(i)) unitBytes[archive] += listing.sizes[i]!;
    unitLastUse[archive] = Math.max(unitLastUse[archive]!, context.lastUse(i));
  }
  const order = Int32Array.from(heads).sort((a, b) => unitLastUse[a]! - unitLastUse[b]! || a - b);
  let left = beforeBytes;
  for (let k = 0; k < order.length && left > limitBytes; k++) {
    const head = order[k]!;
    selected[head] = 1;
    left -= unitBytes[head]!;
  }
  outcome.afterBytes = left;
  outcome.shortfallBytes = Math.max(0, left - limitBytes);
  return outcome;
}
