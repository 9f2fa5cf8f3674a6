import { GrpcCode, grpcCode } from './error-codes';

/**
 * The one retry policy: every retry dropship makes itself goes through `withRetry` (or, for a
 * redelivery loop of its own, `nextRetryDelay`), with exponential backoff and full jitter.
 *
 * The rule for errors. In process, only errors known to be transient are retried: the ones
 * `isTransient` names (and, for a Predict call, the narrower `isRefusedCall`). An error we do
 * not recognise is never retried in process; it goes to the caller at once. The retry for it is
 * the platform's redelivery: a function that throws gets its event or message again, bounded
 * (delivery attempts, event age) and ending in a dead-letter topic, so a mistake in our code or
 * an unknown failure is neither retried blindly against a service nor lost. (The local stack's
 * Storage emulator plays that platform part, so it redelivers on any failure.) A use case may
 * still decide, with what it knows, what a non-transient error means for its own record: the
 * deployment use cases fail the version with the message (docs/deployment.md "Retries").
 *
 * Stacking. Google's clients retry some calls themselves. We do not retry on top of a client's
 * retry; where we do, the reason is written at the call:
 * - Vertex AI ModelService / EndpointService / PredictionService / JobService: the client marks
 *   every method non-idempotent and retries none, so ours is the only retry. Polling a
 *   long-running operation (GetOperation) the client does retry (DEADLINE_EXCEEDED, UNAVAILABLE),
 *   so polls are not wrapped; another error of a poll waits for the next delivery or reconciler
 *   tick, which resumes the operation by name (#shared/adapters/vertex-client-options).
 * - Firestore reads and queries, Pub/Sub publishes, Cloud Storage reads and lists: the clients
 *   retry their transient errors (gax retry settings, Storage's retry options), so the ports
 *   backed by them are not wrapped in `withRetry`. The few that are (Firestore transactions,
 *   a batch commit, a Storage copy) say why beside `retrying` in #shared/deployment/context.
 * - Predict: the client never retries it (and the adapters pass `retry: null`).
 */
export interface RetryPolicy {
  /** calls in all, the first included; Infinity when a deadline bounds them instead */
  maxAttempts: number;
  /** the ceiling of the first wait; each later ceiling doubles, up to maxDelayMs */
  initialDelayMs: number;
  maxDelayMs: number;
}

/** The deployment use cases' calls to Vertex AI (docs/deployment.md "Retries": 6 attempts, 250 ms to 8 s). */
export const DEPLOYMENT_RETRY_POLICY: RetryPolicy = { maxAttempts: 6, initialDelayMs: 250, maxDelayMs: 8_000 };

/**
 * Refused Predict calls of the predict worker, bounded by its time budget rather than a count
 * (PREDICT_BACKOFF_INITIAL_MS, PREDICT_BACKOFF_MAX_MS, PREDICT_RETRY_BUDGET_MS: the defaults).
 */
export const PREDICT_RETRY_POLICY: RetryPolicy = { maxAttempts: Infinity, initialDelayMs: 200, maxDelayMs: 10_000 };

const TRANSIENT_GRPC = new Set<number>([GrpcCode.DEADLINE_EXCEEDED, GrpcCode.RESOURCE_EXHAUSTED, GrpcCode.ABORTED, GrpcCode.INTERNAL, GrpcCode.UNAVAILABLE]);
const TRANSIENT_NAMES = new Set<string>(['DEADLINE_EXCEEDED', 'RESOURCE_EXHAUSTED', 'ABORTED', 'INTERNAL', 'UNAVAILABLE']);
const TRANSIENT_SOCKET = new Set<string>(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE']);
const TRANSIENT_HTTP = new Set<number>([429, 500, 502, 503, 504]);

/**
 * Known transient: a TransientError of ours, gRPC DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED,
 * INTERNAL or UNAVAILABLE (as a number or a name), a reset or refused socket, HTTP 429 or 5xx.
 */
export function isTransient(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { code?: unknown; status?: unknown; name?: unknown };
  if (e.name === 'TransientError') return true;
  if (typeof e.code === 'number' && TRANSIENT_GRPC.has(e.code)) return true;
  if (typeof e.code === 'string' && (TRANSIENT_NAMES.has(e.code) || TRANSIENT_SOCKET.has(e.code))) return true;
  if (typeof e.status === 'number' && TRANSIENT_HTTP.has(e.status)) return true;
  return false;
}

/**
 * A Predict call the endpoint refused or did not answer: RESOURCE_EXHAUSTED (429), UNAVAILABLE
 * (503), DEADLINE_EXCEEDED. Narrower than isTransient on purpose: INTERNAL from Predict is the
 * model's own failure (a container's 500), retried by redelivery and counted by a canary's
 * error rate, not hidden by retrying in process.
 */
export function isRefusedCall(err: unknown): boolean {
  const code = grpcCode(err);
  return code === GrpcCode.RESOURCE_EXHAUSTED || code === GrpcCode.UNAVAILABLE || code === GrpcCode.DEADLINE_EXCEEDED;
}

/** Full jitter: the wait after the n-th failure is uniform in [0, min(maxDelayMs, initialDelayMs·2^(n-1))). */
export function backoffDelayMs(failures: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.max(0, failures - 1));
  return Math.floor(random() * ceiling);
}

/**
 * The wait before the next attempt after `failures` failed ones, or undefined when no attempt is
 * left or the next one would start after `deadline` (epoch ms).
 */
export function nextRetryDelay(failures: number, policy: RetryPolicy, at: { now: number; deadline?: number; random?: () => number }): number | undefined {
  if (failures >= policy.maxAttempts) return undefined;
  const delay = backoffDelayMs(failures, policy, at.random);
  if (at.deadline !== undefined && at.now + delay > at.deadline) return undefined;
  return delay;
}

export interface RetryClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemRetryClock: RetryClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise<void>((r) => setTimeout(r, ms)),
};

export interface RetryOptions {
  policy: RetryPolicy;
  /** which errors are retried (default isTransient); any other is thrown at once */
  retryable?: (err: unknown) => boolean;
  /** epoch ms: no attempt starts after it */
  deadline?: number;
  clock?: RetryClock;
  random?: () => number;
  onRetry?: (err: unknown, failures: number, delayMs: number) => void;
}

/**
 * Runs `call` until it succeeds, throws an error that is not retryable, or runs out of attempts
 * or time; then the last error is thrown as it was, so the caller (and the platform) can still
 * tell a transient one.
 */
export async function withRetry<T>(call: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const clock = opts.clock ?? systemRetryClock;
  const retryable = opts.retryable ?? isTransient;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call(attempt);
    } catch (err) {
      if (!retryable(err)) throw err;
      const delay = nextRetryDelay(attempt, opts.policy, { now: clock.now(), deadline: opts.deadline, random: opts.random });
      if (delay === undefined) throw err;
      opts.onRetry?.(err, attempt, delay);
      await clock.sleep(delay);
    }
  }
}
