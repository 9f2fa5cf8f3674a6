import { backoffDelayMs, isTransientError, withRetry } from '#shared/deployment/core/retry-policy';
import { TransientError } from '#shared/errors';

const grpc = (code: number) => Object.assign(new Error(`code ${code}`), { code });

describe('retry policy', () => {
  it.each([
    [4, true],
    [8, true],
    [10, true],
    [13, true],
    [14, true],
    [3, false],
    [5, false],
    [6, false],
    [7, false],
    [9, false],
  ])('gRPC code %i transient: %s', (code, transient) => {
    expect(isTransientError(grpc(code))).toBe(transient);
  });

  it('treats TransientError and HTTP 429/503 as transient, plain errors as not', () => {
    expect(isTransientError(new TransientError('x'))).toBe(true);
    expect(isTransientError(Object.assign(new Error('x'), { status: 429 }))).toBe(true);
    expect(isTransientError(new Error('x'))).toBe(false);
  });

  it('backs off exponentially with full jitter, capped', () => {
    // Prepare
    const policy = { maxAttempts: 10, baseDelayMs: 100, maxDelayMs: 1000 };
    // Act / Assess
    expect(backoffDelayMs(1, policy, () => 1)).toBe(100);
    expect(backoffDelayMs(3, policy, () => 1)).toBe(400);
    expect(backoffDelayMs(9, policy, () => 1)).toBe(1000);
    expect(backoffDelayMs(3, policy, () => 0.5)).toBe(200);
  });

  it('retries transient errors until success', async () => {
    // Prepare
    const sleeps: number[] = [];
    let calls = 0;
    // Act
    const result = await withRetry(
      async () => {
        calls++;
        if (calls < 3) throw grpc(14);
        return 'ok';
      },
      { sleep: async (ms) => void sleeps.push(ms), random: () => 1 },
    );
    // Assess
    expect(result).toBe('ok');
    expect(calls).toBe(3);
    expect(sleeps).toEqual([250, 500]);
  });

  it('gives up after maxAttempts and does not retry permanent errors', async () => {
    // Prepare
    let transientCalls = 0;
    let permanentCalls = 0;
    const opts = { policy: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1 }, sleep: async () => undefined };
    // Act
    const transient = withRetry(async () => {
      transientCalls++;
      throw grpc(8);
    }, opts);
    const permanent = withRetry(async () => {
      permanentCalls++;
      throw grpc(3);
    }, opts);
    // Assess
    await expect(transient).rejects.toMatchObject({ code: 8 });
    await expect(permanent).rejects.toMatchObject({ code: 3 });
    expect(transientCalls).toBe(3);
    expect(permanentCalls).toBe(1);
  });
});
