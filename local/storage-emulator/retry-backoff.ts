export interface RetryPolicy {
  /** attempts in all, the first included */
  maxAttempts: number;
  /** give up on an event this long after its first attempt */
  maxAgeMs: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 8, maxAgeMs: 120_000, initialBackoffMs: 250, maxBackoffMs: 15_000 };

/**
 * Exponential backoff with "equal jitter": half the step fixed, half random, so retries of many
 * events spread out yet each still waits longer than the one before on average.
 */
export function backoffMs(failedAttempts: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const step = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** Math.max(0, failedAttempts - 1));
  return step / 2 + random() * (step / 2);
}

/** undefined when the event should not be retried again */
export function nextRetryDelay(failedAttempts: number, firstAttemptAt: number, now: number, policy: RetryPolicy, random?: () => number): number | undefined {
  if (failedAttempts >= policy.maxAttempts) return undefined;
  const delay = backoffMs(failedAttempts, policy, random);
  if (now + delay - firstAttemptAt > policy.maxAgeMs) return undefined;
  return delay;
}
