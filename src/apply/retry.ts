import { setTimeout as sleep } from "node:timers/promises";

export interface RetryPolicy {
  /** Tries in all, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  sleep(ms: number): Promise<unknown>;
  /** In [0, 1); the jitter source. */
  random(): number;
}

/** About four seconds of retrying in all: long enough to ride out S3 throttling (SlowDown) and a dropped connection. */
export const DEFAULT_RETRY: RetryPolicy = {
  attempts: 5,
  baseDelayMs: 250,
  maxDelayMs: 8_000,
  sleep,
  random: Math.random,
};

/**
 * Exponential backoff with "equal jitter": half the step is fixed so retries really back off,
 * half is random so parallel workers that failed together don't retry in lockstep.
 */
export function backoffDelay(retry: number, policy: RetryPolicy): number {
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return step / 2 + policy.random() * (step / 2);
}

export interface RetryResult<T> {
  /** Items still unsettled after the last attempt. */
  unsettled: readonly T[];
  /** Set when the last attempt threw (then every item it was given is unsettled). */
  error?: unknown;
}

/**
 * Runs `attempt` on the items, then again after a pause on the ones it hands back as worth
 * retrying (transient failures), up to `policy.attempts` times. A thrown error retries every
 * item of that attempt. Batches thus shrink to what still fails instead of being resent whole.
 */
export async function retrying<T>(items: readonly T[], attempt: (items: readonly T[]) => Promise<readonly T[]>, policy: RetryPolicy): Promise<RetryResult<T>> {
  let pending = items;
  for (let tried = 1; ; tried++) {
    let error: unknown;
    let again: readonly T[];
    try {
      again = await attempt(pending);
    } catch (thrown) {
      error = thrown;
      again = pending;
    }
    if (again.length === 0) return { unsettled: [] };
    if (tried >= policy.attempts) return { unsettled: again, error };
    await policy.sleep(backoffDelay(tried, policy));
    pending = again;
  }
}
