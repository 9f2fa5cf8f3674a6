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
  });
});
