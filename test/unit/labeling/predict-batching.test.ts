import { silentLogger } from '#shared/logging/logger';
import { packInstances, instanceRequestBytes, REQUEST_OVERHEAD_BYTES } from '#shared/labeling/core/pack-instances';
import { BatcherRegistry, PredictBatcher } from '#shared/labeling/predict-batcher';
import type { Predictor } from '#shared/labeling/ports';
import { InstancesRejectedError, PermanentError, PredictRefusedError, TransientError } from '#shared/errors';
import { GrpcCode } from '#shared/retry/error-codes';
import { waitFor } from '#test/support/wait-for';

describe('packInstances', () => {
  it('fills requests up to the byte limit (base64 counted) and the instance cap, in order', () => {
    const limits = { maxRequestBytes: REQUEST_OVERHEAD_BYTES + 3 * instanceRequestBytes(300), maxInstances: 4 };
    const groups = packInstances([300, 300, 300, 300, 10, 10, 10, 10, 10], (n) => n, limits);
    expect(groups).toEqual([
      [300, 300, 300],
      [300, 10, 10, 10],
      [10, 10],
    ]);
    expect(instanceRequestBytes(300)).toBeGreaterThanOrEqual(400);
  });
});

describe('PredictBatcher', () => {
  const img = (n: number) => Buffer.from([n]);
  const fakePredictor = (bad: Set<number>, seen: number[][]): Predictor => ({
    async predict(_endpoint, instances) {
      seen.push(instances.map((b) => b[0]!));
      if (instances.some((b) => bad.has(b[0]!))) throw new InstancesRejectedError('cannot decode');
      return { predictions: instances.map((b) => ({ label: `L${b[0]}`, confidence: 0.9 })), deployedModelId: 'd', model: 'm', modelVersionId: '1' };
    },
  });

  it('shares one call between submissions that arrive within the window', async () => {
    const seen: number[][] = [];
    const b = new PredictBatcher(fakePredictor(new Set(), seen), 'e', { windowMs: 20, pack: { maxRequestBytes: 1_000_000, maxInstances: 8 }, logger: silentLogger });
    const deadline = Date.now() + 5_000;
    const [a, c] = await Promise.all([
      b.submit([{ bytes: img(1), deadline }]),
      b.submit([
        { bytes: img(2), deadline },
        { bytes: img(3), deadline },
      ]),
    ]);
    expect(seen).toEqual([[1, 2, 3]]);
    expect(a.map((o) => o.ok && o.label)).toEqual(['L1']);
    expect(c.map((o) => o.ok && o.label)).toEqual(['L2', 'L3']);
  });

  it('isolates an instance the model rejects by splitting the batch; the others are labeled', async () => {
    const seen: number[][] = [];
    const b = new PredictBatcher(fakePredictor(new Set([3]), seen), 'e', { windowMs: 0, pack: { maxRequestBytes: 1_000_000, maxInstances: 8 }, logger: silentLogger });
    const out = await b.submit([1, 2, 3, 4, 5].map((n) => ({ bytes: img(n), deadline: Date.now() + 5_000 })));
    expect(out.map((o) => (o.ok ? o.label : (o.error as PermanentError).reason))).toEqual(['L1', 'L2', 'MODEL_REJECTED', 'L4', 'L5']);
  });

  it('reports a busy endpoint past the budget as transient for every image of the call', async () => {
    const predictor: Predictor = { predict: async () => Promise.reject(new PredictRefusedError('Rate of traffic exceeds capacity')) };
    const b = new PredictBatcher(predictor, 'e', {
      windowMs: 0,
      pack: { maxRequestBytes: 1_000_000, maxInstances: 8 },
      backoff: { maxAttempts: Infinity, initialDelayMs: 5, maxDelayMs: 10 },
      logger: silentLogger,
    });
    const out = await b.submit([
      { bytes: img(1), deadline: Date.now() + 50 },
      { bytes: img(2), deadline: Date.now() + 50 },
    ]);
    expect(out.every((o) => !o.ok && o.error instanceof TransientError)).toBe(true);
  });

  it('retries a call the port reports refused, and only that: another error fails the images at once', async () => {
    const calls: string[] = [];
    const answer = (instances: readonly Buffer[]) => ({ predictions: instances.map((b) => ({ label: `L${b[0]}`, confidence: 0.9 })), deployedModelId: 'd', model: 'm', modelVersionId: '1' });
    const refusedOnce: Predictor = {
      async predict(_e, instances) {
        calls.push('refusable');
        if (calls.length === 1) throw new PredictRefusedError('Rate of traffic exceeds capacity');
        return answer(instances);
      },
    };
    const opts = { windowMs: 0, pack: { maxRequestBytes: 1_000_000, maxInstances: 8 }, backoff: { maxAttempts: Infinity, initialDelayMs: 1, maxDelayMs: 1 }, logger: silentLogger };
    const deadline = Date.now() + 5_000;
    const retried = await new PredictBatcher(refusedOnce, 'e', opts).submit([{ bytes: img(1), deadline }]);
    expect(retried.map((o) => o.ok && o.label)).toEqual(['L1']);
    expect(calls).toEqual(['refusable', 'refusable']);
    // an error the port does not call refused (even one carrying a transport code) is not retried here
    const unknown = Object.assign(new Error('14 UNAVAILABLE: raw client error'), { code: GrpcCode.UNAVAILABLE });
    let unknownCalls = 0;
    const failing: Predictor = {
      async predict() {
        unknownCalls++;
        throw unknown;
      },
    };
    const failed = await new PredictBatcher(failing, 'e', opts).submit([{ bytes: img(2), deadline }]);
    expect(unknownCalls).toBe(1);
    expect(failed.every((o) => !o.ok && o.error instanceof TransientError && o.error.cause === unknown)).toBe(true);
  });

  it('queues images while the in-flight calls are out and sends them together when one returns', async () => {
    // Prepare: an endpoint that answers only when released, one call slot.
    const seen: number[][] = [];
    const releases: Array<() => void> = [];
    const slow: Predictor = {
      async predict(_e, instances) {
        seen.push(instances.map((b) => b[0]!));
        await new Promise<void>((r) => releases.push(r));
        return { predictions: instances.map((b) => ({ label: `L${b[0]}`, confidence: 0.9 })), deployedModelId: 'd', model: 'm', modelVersionId: '1' };
      },
    };
    const b = new PredictBatcher(slow, 'e', { windowMs: 0, maxInFlight: 1, pack: { maxRequestBytes: 1_000_000, maxInstances: 8 }, logger: silentLogger });
    const deadline = Date.now() + 5_000;
    // Act: one image goes out; four more arrive one by one while it is in flight.
    const first = b.submit([{ bytes: img(1), deadline }]);
    await waitFor(() => releases.length === 1, 5_000, 'the first call to be in flight', 1);
    const rest = [2, 3, 4, 5].map((n) => b.submit([{ bytes: img(n), deadline }]));
    // nothing to wait on for "no second call while one is out": give the batch window (0 ms) time to misfire
    await new Promise((r) => setTimeout(r, 5));
    expect(seen).toEqual([[1]]);
    releases.shift()!();
    await first;
    await waitFor(() => releases.length === 1, 5_000, 'the second call to be in flight', 1);
    releases.shift()!();
    const labels = (await Promise.all(rest)).map(([o]) => o!.ok && o!.label);
    // Assess: the four waiting images shared the second call.
    expect(seen).toEqual([[1], [2, 3, 4, 5]]);
    expect(labels).toEqual(['L2', 'L3', 'L4', 'L5']);
  });

  it('holds each endpoint to its own cap on instances per call (deploy.json maxInstancesPerCall), else the default', async () => {
    const seen: number[][] = [];
    const registry = new BatcherRegistry(fakePredictor(new Set(), seen), { windowMs: 20, maxInFlight: 4, pack: { maxRequestBytes: 1_000_000, maxInstances: 8 }, logger: silentLogger });
    const deadline = Date.now() + 5_000;
    const five = (from: number) => Array.from({ length: 5 }, (_, i) => ({ bytes: img(from + i), deadline }));
    await Promise.all([registry.for('small', 2).submit(five(10)), registry.for('default').submit(five(20))]);
    expect(seen.filter((c) => c[0]! < 20)).toEqual([[10, 11], [12, 13], [14]]);
    expect(seen.filter((c) => c[0]! >= 20)).toEqual([[20, 21, 22, 23, 24]]);
    // the cap follows the deployment: a later lookup without one goes back to the default
    expect(registry.for('small').maxInstances).toBe(8);
    expect(registry.for('small', 3).maxInstances).toBe(3);
    // a model can lower the worker's cap, not raise it
    expect(registry.for('small', 100).maxInstances).toBe(8);
  });
});
