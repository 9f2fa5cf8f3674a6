import { TransientError } from '#shared/errors';
import { GrpcCode } from '#shared/retry/error-codes';
import { backoffDelayMs, DEPLOYMENT_RETRY_POLICY, isRefusedCall, isTransient, nextRetryDelay, PREDICT_RETRY_POLICY, withRetry, type RetryClock } from '#shared/retry/retry-policy';

const grpc = (code: number) => Object.assign(new Error(`code ${code}`), { code });

/** A clock whose sleeps only move its time: the waits are recorded, nothing really waits. */
function fakeClock(start = 0): RetryClock & { sleeps: number[] } {
  let t = start;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => t,
    sleep: async (ms) => {
      sleeps.push(ms);
      t += ms;
    },
  };
}

describe('which errors are retried in process', () => {
  it.each([
    [GrpcCode.DEADLINE_EXCEEDED, true],
    [GrpcCode.RESOURCE_EXHAUSTED, true],
    [GrpcCode.ABORTED, true],
    [GrpcCode.INTERNAL, true],
    [GrpcCode.UNAVAILABLE, true],
    [GrpcCode.UNKNOWN, false],
    [GrpcCode.INVALID_ARGUMENT, false],
    [GrpcCode.NOT_FOUND, false],
    [GrpcCode.ALREADY_EXISTS, false],
    [GrpcCode.PERMISSION_DENIED, false],
    [GrpcCode.FAILED_PRECONDITION, false],
  ])('gRPC code %i is known transient: %s', (code, transient) => {
    expect(isTransient(grpc(code))).toBe(transient);
  });

  it('knows TransientError, gRPC names, reset sockets and HTTP 429/5xx; an unknown error is not transient', () => {
    expect(isTransient(new TransientError('x'))).toBe(true);
    expect(isTransient(Object.assign(new Error('x'), { code: 'UNAVAILABLE' }))).toBe(true);
    expect(isTransient(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isTransient(Object.assign(new Error('x'), { status: 429 }))).toBe(true);
    expect(isTransient(Object.assign(new Error('x'), { status: 503 }))).toBe(true);
    expect(isTransient(Object.assign(new Error('x'), { status: 400 }))).toBe(false);
    expect(isTransient(new Error('x'))).toBe(false);
    expect(isTransient(new TypeError('undefined is not a function'))).toBe(false);
    expect(isTransient('UNAVAILABLE')).toBe(false);
    expect(isTransient(undefined)).toBe(false);
  });

  it('a Predict call is retried only when refused: 429, 503, deadline; not INTERNAL (the model failed) nor INVALID_ARGUMENT', () => {
    expect([GrpcCode.RESOURCE_EXHAUSTED, GrpcCode.UNAVAILABLE, GrpcCode.DEADLINE_EXCEEDED].map((c) => isRefusedCall(grpc(c)))).toEqual([true, true, true]);
    expect([GrpcCode.INTERNAL, GrpcCode.INVALID_ARGUMENT, GrpcCode.ABORTED].map((c) => isRefusedCall(grpc(c)))).toEqual([false, false, false]);
    expect(isRefusedCall(new TransientError('x'))).toBe(false);
  });
});

describe('backoff', () => {
  const policy = { maxAttempts: 10, initialDelayMs: 100, maxDelayMs: 1000 };

  it('doubles its ceiling per failure from initialDelayMs, capped at maxDelayMs, full jitter below it', () => {
    expect([1, 2, 3, 4, 5, 9].map((n) => backoffDelayMs(n, policy, () => 0.999))).toEqual([99, 199, 399, 799, 999, 999]);
    expect(backoffDelayMs(3, policy, () => 0.5)).toBe(200);
    expect(backoffDelayMs(3, policy, () => 0)).toBe(0);
  });

  it('stops at maxAttempts failures, and when the next attempt would start after the deadline', () => {
    expect(nextRetryDelay(9, policy, { now: 0, random: () => 0.5 })).toBe(500);
    expect(nextRetryDelay(10, policy, { now: 0, random: () => 0 })).toBeUndefined();
    expect(nextRetryDelay(1, policy, { now: 900, deadline: 1_000, random: () => 0.999 })).toBe(99);
    expect(nextRetryDelay(1, policy, { now: 950, deadline: 1_000, random: () => 0.999 })).toBeUndefined();
  });

  it('the documented defaults: deployment 6 attempts 250 ms to 8 s; predict 200 ms to 10 s, bounded by its budget', () => {
    expect(DEPLOYMENT_RETRY_POLICY).toEqual({ maxAttempts: 6, initialDelayMs: 250, maxDelayMs: 8_000 });
    expect(PREDICT_RETRY_POLICY).toEqual({ maxAttempts: Infinity, initialDelayMs: 200, maxDelayMs: 10_000 });
  });
});

describe('withRetry', () => {
  it('retries known transient errors with growing waits until the call succeeds', async () => {
    // Prepare
    const clock = fakeClock();
    let calls = 0;
    // Act
    const result = await withRetry(
      async (attempt) => {
        calls++;
        expect(attempt).toBe(calls);
        if (calls < 3) throw grpc(GrpcCode.UNAVAILABLE);
        return 'ok';
      },
      { policy: DEPLOYMENT_RETRY_POLICY, clock, random: () => 1 },
    );
    // Assess
    expect(result).toBe('ok');
    expect(calls).toBe(3);
    expect(clock.sleeps).toEqual([250, 500]);
  });

  it('throws the last transient error after maxAttempts calls, and an unknown or permanent one at once', async () => {
    // Prepare
    const clock = fakeClock();
    const opts = { policy: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 1 }, clock };
    const counting = (err: Error) => {
      const fn = async () => {
        fn.calls++;
        throw err;
      };
      fn.calls = 0;
      return fn;
    };
    const transient = counting(grpc(GrpcCode.RESOURCE_EXHAUSTED));
    const permanent = counting(grpc(GrpcCode.INVALID_ARGUMENT));
    const unknown = counting(new Error('something we do not know'));
    // Act / Assess
    await expect(withRetry(transient, opts)).rejects.toMatchObject({ code: GrpcCode.RESOURCE_EXHAUSTED });
    await expect(withRetry(permanent, opts)).rejects.toMatchObject({ code: GrpcCode.INVALID_ARGUMENT });
    await expect(withRetry(unknown, opts)).rejects.toThrow('something we do not know');
    expect([transient.calls, permanent.calls, unknown.calls]).toEqual([3, 1, 1]);
  });

  it('within a deadline: retries until the next wait would pass it, then throws the last error', async () => {
    // Prepare
    const clock = fakeClock(0);
    let calls = 0;
    // Act
    const p = withRetry(
      async () => {
        calls++;
        throw grpc(GrpcCode.RESOURCE_EXHAUSTED);
      },
      { policy: { maxAttempts: Infinity, initialDelayMs: 100, maxDelayMs: 400 }, deadline: 1_000, retryable: isRefusedCall, clock, random: () => 0.999 },
    );
    // Assess: waits 99, 199, 399; a fourth wait of 399 would end at 1096, past the deadline
    await expect(p).rejects.toMatchObject({ code: GrpcCode.RESOURCE_EXHAUSTED });
    expect(clock.sleeps).toEqual([99, 199, 399]);
    expect(calls).toBe(4);
    expect(clock.now()).toBeLessThanOrEqual(1_000);
  });

  it('uses the retryable predicate it is given: a Predict INTERNAL is thrown at once', async () => {
    const clock = fakeClock();
    let calls = 0;
    const p = withRetry(
      async () => {
        calls++;
        throw grpc(GrpcCode.INTERNAL);
      },
      { policy: PREDICT_RETRY_POLICY, deadline: 60_000, retryable: isRefusedCall, clock },
    );
    await expect(p).rejects.toMatchObject({ code: GrpcCode.INTERNAL });
    expect(calls).toBe(1);
  });

  it('reports each retry with the failures so far and the wait', async () => {
    const clock = fakeClock();
    const seen: Array<[number, number]> = [];
    let calls = 0;
    await withRetry(
      async () => {
        if (++calls < 3) throw new TransientError('busy');
        return calls;
      },
      { policy: DEPLOYMENT_RETRY_POLICY, clock, random: () => 0.5, onRetry: (_err, failures, delayMs) => seen.push([failures, delayMs]) },
    );
    expect(seen).toEqual([
      [1, 125],
      [2, 250],
    ]);
  });
});
