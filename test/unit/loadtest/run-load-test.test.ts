import { percentile, LatencyStats } from '#local/loadtest/latency-stats';
import { runLoadTest, validatePlan, failureCode } from '#local/loadtest/run-load-test';

describe('load test engine', () => {
  it('computes nearest-rank percentiles like Locust', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(sorted, 50), percentile(sorted, 90), percentile(sorted, 99), percentile(sorted, 100)]).toEqual([50, 90, 99, 100]);
    expect(percentile([7], 95)).toBe(7);
    expect(percentile([], 50)).toBe(0);
  });

  it('counts failures by code and keeps them in the latency figures', () => {
    const stats = new LatencyStats();
    stats.record(10, 2);
    stats.record(30, 2, 'RESOURCE_EXHAUSTED');
    stats.record(20, 2, 'UNAVAILABLE');
    const s = stats.summary(2);
    expect(s).toMatchObject({ requests: 3, failures: 2, instancesSent: 6, rps: 1.5, failuresByCode: { RESOURCE_EXHAUSTED: 1, UNAVAILABLE: 1 } });
    expect(s.latencyMs).toMatchObject({ avg: 20, min: 10, p50: 20, max: 30 });
  });

  it('stops by itself after the request budget, with every user sending', async () => {
    const seen = new Set<number>();
    let calls = 0;
    const run = await runLoadTest({ users: 4, spawnRate: 1000, maxRequests: 40, thinkTimeMs: 0, instancesPerRequest: 1 }, async (user) => {
      seen.add(user);
      calls += 1;
      await new Promise((r) => setTimeout(r, 2));
      if (calls % 10 === 0) throw Object.assign(new Error('busy'), { code: 8 });
    });
    // Users already in flight when the budget is reached finish their request.
    expect(run.summary.requests).toBeGreaterThanOrEqual(40);
    expect(run.summary.requests).toBeLessThanOrEqual(43);
    expect(run.summary.failuresByCode.RESOURCE_EXHAUSTED).toBeGreaterThanOrEqual(4);
    expect(seen.size).toBe(4);
  });

  it('refuses plans that would not stop or make no sense', () => {
    expect(() => validatePlan({ users: 1, spawnRate: 1, thinkTimeMs: 0, instancesPerRequest: 1 })).toThrow(/--duration or --requests/);
    expect(() => validatePlan({ users: 0, spawnRate: 1, maxRequests: 1, thinkTimeMs: 0, instancesPerRequest: 1 })).toThrow(/--users/);
    expect(() => validatePlan({ users: 1, spawnRate: 1, maxRequests: 1, thinkTimeMs: 0, instancesPerRequest: 0 })).toThrow(/--instances/);
  });

  it('names failures by gRPC status, HTTP status or error name', () => {
    expect(failureCode({ code: 14 })).toBe('UNAVAILABLE');
    expect(failureCode({ status: 429 })).toBe('HTTP_429');
    expect(failureCode(new TypeError('x'))).toBe('TypeError');
  });
});
