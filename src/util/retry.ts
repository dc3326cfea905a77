import { setTimeout as sleep } from "node:timers/promises";

export interface RetryPolicy {
  /** Tries in all, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** No new attempt starts once this long has passed since the first one began. */
  budgetMs: number;
  sleep(ms: number): Promise<unknown>;
  /** In [0, 1); the jitter source. */
  random(): number;
  /** Milliseconds, for the budget. */
  now(): number;
}

/** About four seconds of pauses in all: long enough to ride out S3 throttling (SlowDown) and a dropped connection. */
export const DEFAULT_RETRY: RetryPolicy = {
  attempts: 5,
  baseDelayMs: 250,
  maxDelayMs: 8_000,
  budgetMs: 60_000,
  sleep,
  random: Math.random,
  now: Date.now,
};

/**
 * Exponential backoff with "equal jitter": half the step is fixed so retries really back off,
 * half is random so parallel workers that failed together don't retry in lockstep.
 */
export function backoffDelay(retry: number, policy: RetryPolicy): number {
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return step / 2 + policy.random() * (step / 2);
}

/** Whether another attempt may start: tries left, and the pause before it ends within the budget. */
function mayRetry(tried: number, startedAt: number, delay: number, policy: RetryPolicy): boolean {
  return tried < policy.attempts && policy.now() + delay - startedAt < policy.budgetMs;
}

/**
 * Runs `attempt` until it succeeds; a failure that `isTransient` accepts is tried again after a
 * pause, while tries and budget last. The last error is thrown as it was.
 */
export async function withRetries<T>(attempt: (tried: number) => Promise<T>, isTransient: (error: unknown) => boolean, policy: RetryPolicy): Promise<T> {
  const startedAt = policy.now();
  for (let tried = 1;; tried++) {
    try {
      return await attempt(tried);
    } catch (error) {
      const delay = backoffDelay(tried, policy);
      if (!isTransient(error) || !mayRetry(tried, startedAt, delay, policy)) throw error;
      await policy.sleep(delay);
    }
  }
}

export interface RetryResult<T> {
  /** Items still unsettled after the last attempt. */
  unsettled: readonly T[];
  /** Set when the last attempt threw (then every item it was given is unsettled). */
  error?: unknown;
}

/**
 * Runs `attempt` on the items, then again after a pause on the ones it hands back as worth
 * retrying (transient failures), while tries and budget last. A thrown error that `isTransient`
 * accepts retries every item of that attempt; any other is returned at once. Batches thus
 * shrink to what still fails instead of being resent whole.
 */
export async function retrying<T>(
  items: readonly T[],
  attempt: (items: readonly T[]) => Promise<readonly T[]>,
  policy: RetryPolicy,
  isTransient: (error: unknown) => boolean = () => true,
): Promise<RetryResult<T>> {
  const startedAt = policy.now();
  let pending = items;
  for (let tried = 1;; tried++) {
    let error: unknown;
    let again: readonly T[];
    try {
      again = await attempt(pending);
    } catch (thrown) {
      error = thrown;
      again = pending;
    }
    if (again.length === 0) return { unsettled: [] };
    const delay = backoffDelay(tried, policy);
    if ((error !== undefined && !isTransient(error)) || !mayRetry(tried, startedAt, delay, policy)) return { unsettled: again, error };
    await policy.sleep(delay);
    pending = again;
  }
}
