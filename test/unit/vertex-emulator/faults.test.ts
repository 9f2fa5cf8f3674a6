import { status } from '@grpc/grpc-js';
import { FaultInjector, parseFaults, RATE_EXCEEDED } from '#local/vertex-emulator/faults';

describe('fault injection', () => {
  it('answers the configured share of calls with RESOURCE_EXHAUSTED or UNAVAILABLE, per surface', async () => {
    const draws = [0.1, 0.2, 0.1, 0.7, 0.9];
    const f = new FaultInjector({ predictErrorRate: 0.5 }, () => draws.shift()!);
    await expect(f.apply('predict')).rejects.toMatchObject({ code: status.RESOURCE_EXHAUSTED, message: RATE_EXCEEDED });
    await expect(f.apply('predict')).rejects.toMatchObject({ code: status.UNAVAILABLE });
    await expect(f.apply('predict')).resolves.toBeUndefined();
    await expect(f.apply('management')).resolves.toBeUndefined();
  });

  it('checks faults that arrive over HTTP', () => {
    expect(parseFaults({ predictErrorRate: 0.2, operationDelayMs: { deployModel: 5000 } })).toEqual({ predictErrorRate: 0.2, operationDelayMs: { deployModel: 5000 } });
    expect(() => parseFaults({ predictErrorRate: 1.5 })).toThrow(/predictErrorRate/);
    expect(() => parseFaults({ predictErorRate: 0.5 })).toThrow(/predictErorRate/);
    expect(() => parseFaults({ operationFailures: { deploy: 'x' } })).toThrow();
    expect(parseFaults({ deployedModels: { '123': { latencyFactor: 3, errorRate: 0.2 } } })).toEqual({ deployedModels: { '123': { latencyFactor: 3, errorRate: 0.2 } } });
    expect(() => parseFaults({ deployedModels: { '123': { latencyFactor: 0.5 } } })).toThrow(/latencyFactor/);
    expect(() => parseFaults({ deployedModels: { '123': { slow: true } } })).toThrow();
  });

  it('one deployed model fails its share of predictions (INTERNAL, naming it) and takes latencyFactor times as long; others are untouched', async () => {
    const draws = [0.1, 0.5];
    const f = new FaultInjector({ deployedModels: { canary: { errorRate: 0.2, latencyFactor: 3 } } }, () => draws.shift()!);
    const run = jest.fn(async () => 'answer');
    await expect(f.deployed('canary', Date.now(), run)).rejects.toMatchObject({ code: status.INTERNAL, message: expect.stringMatching(/^Deployed model canary failed/) });
    expect(run).not.toHaveBeenCalled();
    // arrived 40 ms ago: 3x means 80 ms more
    const started = Date.now() - 40;
    await expect(f.deployed('canary', started, run)).resolves.toBe('answer');
    expect(Date.now() - started).toBeGreaterThanOrEqual(115);
    await expect(f.deployed('stable', Date.now(), run)).resolves.toBe('answer');
    expect(draws).toEqual([]); // the stable model drew nothing
  });

  it('trafficSeed seeds the split draw and the per-deployed-model failure draw; setting it again restarts the sequence', async () => {
    const f = new FaultInjector({ trafficSeed: 42, deployedModels: { canary: { errorRate: 0.5 } } }, () => {
      throw new Error('the unseeded source must not be drawn while a seed is set');
    });
    const first = [f.trafficRandom(), f.trafficRandom()];
    const outcome = await f.deployed('canary', Date.now(), async () => 'ok').catch(() => 'failed');
    f.set({ trafficSeed: 42, deployedModels: { canary: { errorRate: 0.5 } } });
    expect([f.trafficRandom(), f.trafficRandom()]).toEqual(first);
    expect(await f.deployed('canary', Date.now(), async () => 'ok').catch(() => 'failed')).toBe(outcome);
    f.set({ trafficSeed: 43 });
    expect(f.trafficRandom()).not.toBe(first[0]);
    expect(parseFaults({ trafficSeed: 7 })).toEqual({ trafficSeed: 7 });
    expect(() => parseFaults({ trafficSeed: -1 })).toThrow(/trafficSeed/);
    expect(() => parseFaults({ trafficSeed: 1.5 })).toThrow(/trafficSeed/);
  });
});
