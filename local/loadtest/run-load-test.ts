import { LatencyStats, type LoadTestSummary } from './latency-stats';

/** One request against the system under load; resolves when answered, rejects with a code on failure. */
export type SendRequest = (user: number) => Promise<void>;

export interface LoadTestPlan {
  users: number;
  /** users started per second, as Locust's spawn rate */
  spawnRate: number;
  /** stop after this long... */
  durationSeconds?: number;
  /** ...or after this many requests, whichever comes first */
  maxRequests?: number;
  /** pause per user between requests */
  thinkTimeMs: number;
  instancesPerRequest: number;
}

/** An absolute bound so a mistyped plan cannot run forever. */
export const HARD_LIMITS = { durationSeconds: 3600, requests: 10_000_000 };

export interface LoadTestRun {
  summary: LoadTestSummary;
  plan: LoadTestPlan;
}

/**
 * Runs a Locust-style closed-loop load test: `users` virtual users, started at `spawnRate` per
 * second, each sending a request, waiting for its answer, thinking, and going again, until the
 * duration or the request count is reached. `onTick` gets a live summary once a second.
 */
export async function runLoadTest(plan: LoadTestPlan, send: SendRequest, opts: { onTick?: (live: LoadTestSummary, activeUsers: number) => void; now?: () => number } = {}): Promise<LoadTestRun> {
  validatePlan(plan);
  const now = opts.now ?? (() => performance.now());
  const stats = new LatencyStats();
  const start = now();
  const durationMs = Math.min(plan.durationSeconds ?? HARD_LIMITS.durationSeconds, HARD_LIMITS.durationSeconds) * 1000;
  const maxRequests = Math.min(plan.maxRequests ?? HARD_LIMITS.requests, HARD_LIMITS.requests);
  let issued = 0;
  let active = 0;
  const stopped = () => now() - start >= durationMs || issued >= maxRequests;

  const user = async (id: number) => {
    active += 1;
    try {
      while (!stopped()) {
        issued += 1;
        const t0 = now();
        let code: string | undefined;
        try {
          await send(id);
        } catch (err) {
          code = failureCode(err);
        }
        stats.record(now() - t0, plan.instancesPerRequest, code);
        if (plan.thinkTimeMs > 0 && !stopped()) await sleep(plan.thinkTimeMs);
      }
    } finally {
      active -= 1;
    }
  };

  const ticker = opts.onTick ? setInterval(() => opts.onTick?.(stats.summary((now() - start) / 1000), active), 1000) : undefined;
  const users: Promise<void>[] = [];
  const spawnGapMs = 1000 / plan.spawnRate;
  try {
    for (let i = 0; i < plan.users && !stopped(); i++) {
      users.push(user(i));
      if (i < plan.users - 1) await sleep(spawnGapMs);
    }
    await Promise.all(users);
  } finally {
    if (ticker) clearInterval(ticker);
  }
  return { plan, summary: stats.summary((now() - start) / 1000) };
}

export function validatePlan(plan: LoadTestPlan): void {
  const problems: string[] = [];
  if (!Number.isInteger(plan.users) || plan.users < 1 || plan.users > 10_000) problems.push('--users must be a whole number from 1 to 10000');
  if (!(plan.spawnRate > 0)) problems.push('--spawn-rate must be above 0');
  if (plan.durationSeconds === undefined && plan.maxRequests === undefined) problems.push('give --duration or --requests so the test stops by itself');
  if (plan.durationSeconds !== undefined && !(plan.durationSeconds > 0)) problems.push('--duration must be above 0 seconds');
  if (plan.maxRequests !== undefined && !(Number.isInteger(plan.maxRequests) && plan.maxRequests > 0)) problems.push('--requests must be a whole number above 0');
  if (!(plan.thinkTimeMs >= 0)) problems.push('--think-time must be 0 or more milliseconds');
  if (!Number.isInteger(plan.instancesPerRequest) || plan.instancesPerRequest < 1) problems.push('--instances must be a whole number of at least 1');
  if (problems.length) throw new Error(problems.join('; '));
}

/** A failure's code as the report groups it: gRPC status name, HTTP status, or the error's name. */
export function failureCode(err: unknown): string {
  const e = err as { code?: unknown; status?: unknown; name?: string };
  if (typeof e?.code === 'number') return GRPC_CODE_NAMES[e.code] ?? `GRPC_${e.code}`;
  if (typeof e?.code === 'string') return e.code;
  if (typeof e?.status === 'number') return `HTTP_${e.status}`;
  return e?.name ?? 'ERROR';
}

const GRPC_CODE_NAMES: Record<number, string> = {
  1: 'CANCELLED',
  2: 'UNKNOWN',
  3: 'INVALID_ARGUMENT',
  4: 'DEADLINE_EXCEEDED',
  5: 'NOT_FOUND',
  7: 'PERMISSION_DENIED',
  8: 'RESOURCE_EXHAUSTED',
  9: 'FAILED_PRECONDITION',
  13: 'INTERNAL',
  14: 'UNAVAILABLE',
  16: 'UNAUTHENTICATED',
};

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
