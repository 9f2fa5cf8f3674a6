/** gRPC status codes the predict path cares about. */
export const GrpcCode = {
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  FAILED_PRECONDITION: 9,
  RESOURCE_EXHAUSTED: 8,
  UNAVAILABLE: 14,
} as const;

// 429 and 503 arrive as RESOURCE_EXHAUSTED / UNAVAILABLE over gRPC; the Node client never retries Predict.
const RETRYABLE = new Set<number>([GrpcCode.RESOURCE_EXHAUSTED, GrpcCode.UNAVAILABLE, GrpcCode.DEADLINE_EXCEEDED]);

export function grpcCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

export function isRetryablePredictError(err: unknown): boolean {
  const code = grpcCode(err);
  return code !== undefined && RETRYABLE.has(code);
}

export interface BackoffPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
  multiplier: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialDelayMs: 200, maxDelayMs: 10_000, multiplier: 2 };

/** "Full jitter": a uniform delay up to the exponential cap, so retrying workers spread out. */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const cap = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.multiplier ** attempt);
  return Math.floor(random() * cap);
}

/**
 * Runs `call` until it succeeds, fails with a non-retryable error, or the next wait would pass
 * `deadline` (epoch ms); the last error is rethrown so the caller can let Pub/Sub redeliver.
 */
export async function retryWithinBudget<T>(
  call: () => Promise<T>,
  opts: { deadline: number; policy?: BackoffPolicy; now?: () => number; sleep?: (ms: number) => Promise<void>; onRetry?: (err: unknown, attempt: number, delayMs: number) => void },
): Promise<T> {
  const policy = opts.policy ?? DEFAULT_BACKOFF;
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (!isRetryablePredictError(err)) throw err;
      const delay = backoffDelay(attempt, policy);
      if (now() + delay >= opts.deadline) throw err;
      opts.onRetry?.(err, attempt, delay);
      await sleep(delay);
    }
  }
}
