/**
 * Which failures are worth retrying, and how long to wait. gRPC codes (Vertex AI, Firestore)
 * and their HTTP equivalents; anything else is treated as permanent by the caller's choice.
 */
export const TRANSIENT_CODES: ReadonlySet<number> = new Set([
  4, // DEADLINE_EXCEEDED
  8, // RESOURCE_EXHAUSTED
  10, // ABORTED
  13, // INTERNAL
  14, // UNAVAILABLE
]);
const TRANSIENT_NAMES = new Set(['DEADLINE_EXCEEDED', 'RESOURCE_EXHAUSTED', 'ABORTED', 'INTERNAL', 'UNAVAILABLE']);
const TRANSIENT_HTTP = new Set([429, 500, 502, 503, 504]);

export function isTransientError(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { code?: unknown; status?: unknown; name?: unknown; errno?: unknown };
  if (e.name === 'TransientError') return true;
  if (typeof e.code === 'number' && TRANSIENT_CODES.has(e.code)) return true;
  if (typeof e.code === 'string' && (TRANSIENT_NAMES.has(e.code) || ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE'].includes(e.code))) return true;
  if (typeof e.status === 'number' && TRANSIENT_HTTP.has(e.status)) return true;
  return false;
}

export interface BackoffPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { maxAttempts: 6, baseDelayMs: 250, maxDelayMs: 8_000 };

/** "Full jitter" exponential backoff: uniform in [0, min(max, base * 2^(attempt-1))]. */
export function backoffDelayMs(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(random() * ceiling);
}

/**
 * Runs `fn` until it succeeds, fails permanently, or runs out of attempts (then the last error
 * is thrown, still transient, so the platform can retry the whole event later).
 */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  opts: { policy?: BackoffPolicy; sleep?: (ms: number) => Promise<void>; random?: () => number; onRetry?: (err: unknown, attempt: number, delayMs: number) => void } = {},
): Promise<T> {
  const policy = opts.policy ?? DEFAULT_BACKOFF;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (!isTransientError(err) || attempt >= policy.maxAttempts) throw err;
      const delay = backoffDelayMs(attempt, policy, opts.random);
      opts.onRetry?.(err, attempt, delay);
      await sleep(delay);
    }
  }
}
