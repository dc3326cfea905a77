/**
 * An apply as the CLI runs it: verify the reviewed plan against what it is about to act on,
 * take the locks, read and open the journal and the audit log, open the target, apply, and
 * let go of everything again. The CLI parses arguments and renders the report.
 */
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type TargetContext, withBackend } from "../backends/open.ts";
import type { Target } from "../backends/registry.ts";
import type { PlanFile } from "../plan/plan-file.ts";
import type { ProgressListener } from "../util/progress.ts";
import { JsonLinesWriter } from "./json-lines.ts";
import { JournalError, openJournal, readJournal } from "./journal.ts";
import { acquireLock, type Lock, LockedError } from "./lock.ts";
import { type ApplyOptions, applyPlan, type ApplyReport, RecordError } from "./run.ts";
import { type ApplyExpectations, type Rejection, verifyPlan } from "./verify.ts";

/** A plan that is not applied: `tampered` ones are invalid input (exit 2), `stale` ones refused (exit 3). */
export class PlanRejectedError extends Error {
  readonly kind: Rejection["kind"];
  constructor(source: string, rejection: Rejection) {
    super(`${source}: ${rejection.message}`);
    this.name = "PlanRejectedError";
    this.kind = rejection.kind;
  }
}

export interface ApplySessionInput {
  plan: PlanFile;
  /** The plan file as the user named it (messages name it). */
  source: string;
  target: Target;
  context: TargetContext;
  /** What the plan is checked against besides the clock. */
  expectations: Omit<ApplyExpectations, "now">;
  journalPath: string;
  logPath: string | undefined;
  clock(): Date;
  options: ApplyOptions;
  /** Called once the plan passed every check, before anything is touched. */
  onStart?(plan: PlanFile): void;
  onProgress?: ProgressListener;
}

export async function applyReviewedPlan(input: ApplySessionInput): Promise<ApplyReport> {
  const { plan, options, clock, journalPath } = input;
  const rejection = verifyPlan(plan, { ...input.expectations, now: clock() });
  if (rejection) throw new PlanRejectedError(input.source, rejection);
  input.onStart?.(plan);

  // A dry run changes nothing: it needs no lock and writes no journal.
  const locks: Lock[] = [];
  let journal: JsonLinesWriter | undefined;
  let log: JsonLinesWriter | undefined;
  try {
    if (!options.dryRun) {
      locks.push(await preparing(`${journalPath}.lock`, () => acquireLock(`${journalPath}.lock`, `journal ${journalPath}`, clock())));
      const targetLock = targetLockPath(plan.target);
      locks.push(await preparing(targetLock, () => acquireLock(targetLock, `target ${plan.target} on this machine`, clock())));
    }
    const earlier = await preparing(journalPath, () => readJournal(journalPath, plan.integrity));
    journal = options.dryRun ? undefined : await preparing(journalPath, () => openJournal(earlier, plan, clock()));
    const logPath = input.logPath;
    log = logPath === undefined ? undefined : await preparing(logPath, () => JsonLinesWriter.open(logPath, { durable: true }));
    return await withBackend(input.target, input.context, (backend) => applyPlan({ plan, backend, earlier: earlier.previous, journal, log, clock, options, onProgress: input.onProgress }));
  } finally {
    await journal?.close();
    await log?.close();
    for (const lock of locks) await lock.release();
  }
}

/** One apply per target on this machine, whatever journal each uses. */
function targetLockPath(target: string): string {
  return join(tmpdir(), `sstate-keeper-${createHash("sha256").update(target).digest("hex").slice(0, 16)}.lock`);
}

/** A lock, journal or log that cannot be taken or opened stops the apply before it starts; the journal's and the lock's own refusals say why themselves. */
async function preparing<T>(path: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (error instanceof JournalError || error instanceof LockedError) throw error;
    throw new RecordError(path, error);
  }
}
