import { nextRetryDelay, type RetryPolicy } from '#shared/retry/retry-policy';

/**
 * How the emulator redelivers an event its consumer failed: what Eventarc does on Google Cloud
 * (any failure is retried, backing off 10-600 s for up to a day), on the one retry policy of
 * #shared/retry and scaled down to seconds. The platform's redelivery is what retries the
 * errors the functions do not recognise, so every failure counts here, whatever its kind.
 */
export interface RedeliveryPolicy extends RetryPolicy {
  /** give up on an event this long after its first attempt */
  maxAgeMs: number;
}

export const DEFAULT_REDELIVERY: RedeliveryPolicy = { maxAttempts: 8, maxAgeMs: 120_000, initialDelayMs: 250, maxDelayMs: 15_000 };

/** undefined when the event should not be delivered again */
export function nextRedeliveryDelay(failures: number, firstAttemptAt: number, now: number, policy: RedeliveryPolicy, random?: () => number): number | undefined {
  return nextRetryDelay(failures, policy, { now, deadline: firstAttemptAt + policy.maxAgeMs, random });
}
