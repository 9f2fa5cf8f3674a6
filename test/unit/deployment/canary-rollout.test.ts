import type { DeploymentContext } from '#shared/deployment/context';
import { stepRollout } from '#shared/deployment/canary-rollout';
import type { VersionRecord } from '#shared/deployment/core/records';
import { rolloutPolicySchema } from '#shared/deployment/core/rollout-policy';
import type { EndpointInfo, ModelEvent, ResultSample, ServingCounts, VersionChange } from '#shared/deployment/ports';
import { createLogger } from '#shared/logging/logger';

const ENDPOINT = 'projects/p/locations/us-central1/endpoints/e1';
const T0 = new Date('2026-12-02T06:00:00.000Z');

/**
 * stepRollout on in-memory fakes of its ports, with the clock injected: the endpoint (v1 stable
 * at 70%, v2 canary at 30%), the versions, the results the workers wrote and Vertex AI's counts.
 */
function world(opts: { analysis: Record<string, unknown>; results?: ResultSample[]; serving?: Record<string, ServingCounts> }) {
  let now = T0;
  const split: Record<string, number> = { 'dm-v1': 70, 'dm-v2': 30 };
  const undeployed: string[] = [];
  const events: ModelEvent[] = [];
  const spec = { traffic: 'canary:30', rollout: rolloutPolicySchema.parse({ analysis: opts.analysis }) };
  const base = { model: 'm', artifactUri: 'gs://models/m/x/', claimedBy: 'k', versionAlias: 'a', endpoint: ENDPOINT, createdAt: T0.toISOString(), updatedAt: T0.toISOString() };
  const versions: Record<string, VersionRecord> = {
    v1: { ...base, version: 'v1', state: 'DEPLOYED', history: [], traffic: 'replace', deployedModelId: 'dm-v1', trafficPercent: 70 },
    v2: {
      ...base,
      version: 'v2',
      state: 'CANARY_ANALYSIS',
      history: [],
      traffic: 'canary:30',
      spec,
      deployedModelId: 'dm-v2',
      trafficPercent: 30,
      rollout: { phase: 'analysis', startedAt: T0.toISOString(), analysisStartedAt: T0.toISOString(), stable: { v1: 'dm-v1' } },
    },
  };
  const endpoint = (): EndpointInfo => ({ name: ENDPOINT, deployedModels: Object.keys(split).map((id) => ({ id, model: 'vm' })), trafficSplit: { ...split } });
  const ctx = {
    store: {
      async change(_model: string, version: string, _holder: string, c: VersionChange, at: Date) {
        const prev = versions[version]!;
        versions[version] = {
          ...prev,
          ...c.patch,
          state: c.to ?? prev.state,
          history: c.to ? [...prev.history, { from: prev.state, to: c.to, at: at.toISOString(), ...(c.reason ? { reason: c.reason } : {}) }] : prev.history,
        } as VersionRecord;
        return versions[version]!;
      },
      listVersions: async () => Object.values(versions),
      getModel: async () => ({ model: 'm', endpoint: ENDPOINT, traffic: { v1: 70, v2: 30 } }),
      recordTraffic: async () => undefined,
    },
    vertex: {
      getEndpoint: async () => endpoint(),
      async setTraffic(_e: string, next: Record<string, number>) {
        for (const k of Object.keys(split)) delete split[k];
        Object.assign(split, Object.fromEntries(Object.entries(next).filter(([, v]) => v > 0)));
      },
      async startUndeploy(_e: string, id: string) {
        undeployed.push(id);
        return `op-undeploy-${id}`;
      },
    },
    events: { publish: async (e: ModelEvent) => void events.push(e) },
    clock: { now: () => now, sleep: async () => undefined },
    log: createLogger({ component: 'test', minSeverity: 'CRITICAL', write: () => undefined }),
    location: 'us-central1',
    leaseMs: 60_000,
    results: { resultsOf: async (id: string) => (opts.results ?? []).filter((r) => r.deployedModelId === id) },
    ...(opts.serving ? { metrics: { countsOf: async () => opts.serving! } } : {}),
  } as unknown as DeploymentContext;
  return {
    ctx,
    versions,
    split,
    undeployed,
    events,
    at(minutes: number) {
      now = new Date(T0.getTime() + minutes * 60_000);
    },
    step: () => stepRollout(ctx, versions.v2!, 'tick'),
  };
}

/** n OK results of one deployed model, labels cycling 0..9, 20 ms, confidence 0.9 */
function ok(deployedModelId: string, n: number): ResultSample[] {
  return Array.from({ length: n }, (_, i) => ({ deployedModelId, status: 'OK' as const, label: String(i % 10), confidence: 0.9, latencyMs: 20 + (i % 5) }));
}

describe('stepRollout: the analysis time limit (clock injected)', () => {
  it('an analysis without traffic waits until maxMinutes, then rolls back once, with its numbers', async () => {
    // Arrange: no results at all (an endpoint nobody calls)
    const w = world({ analysis: { minResults: 100, minMinutes: 10, maxMinutes: 60 } });

    // Act: a tick just before the limit
    w.at(59.9);
    const waiting = await w.step();

    // Assess: still waiting, its figures shown, nothing moved
    expect(waiting.state).toBe('CANARY_ANALYSIS');
    expect(waiting.rollout).toMatchObject({ phase: 'analysis', live: { verdict: 'wait', waitingFor: 'canary has 0 of 100 results; stable has 0 of 100 results' } });
    expect(w.split).toEqual({ 'dm-v1': 70, 'dm-v2': 30 });

    // Act: the tick at the limit
    w.at(60);
    const rolled = await w.step();

    // Assess: rolled back on maxMinutes, the decision and history say why and with what
    expect(rolled.state).toBe('ROLLED_BACK');
    expect(rolled.rollout!.decision).toMatchObject({ outcome: 'rollback', stage: 'analysis', failed: 'maxMinutes', analysis: { canaryResults: 0, stableResults: 0, minutes: 60 } });
    const reason = rolled.history[rolled.history.length - 1]!.reason!;
    expect(reason).toMatch(
      /^canary analysis timed out after 60\.0 min \(maxMinutes 60\), still waiting for: canary has 0 of 100 results; stable has 0 of 100 results: 0 canary \/ 0 stable results over 60\.0 min/,
    );
    expect(w.split).toEqual({ 'dm-v1': 100 });
    expect(w.undeployed).toEqual(['dm-v2']);
    expect(w.events.filter((e) => e.from === 'CANARY_ANALYSIS')).toEqual([expect.objectContaining({ state: 'ROLLED_BACK', rollout: expect.objectContaining({ failed: 'maxMinutes' }) })]);

    // Act: a duplicate tick on the decided version
    await stepRollout(w.ctx, w.versions.v2!, 'tick');
    expect(w.undeployed).toEqual(['dm-v2']);
  });

  it('onTimeout hold: decided hold-failed at the limit, traffic untouched', async () => {
    const w = world({ analysis: { minResults: 100, minMinutes: 10, maxMinutes: 30, onTimeout: 'hold' }, results: ok('dm-v2', 12).concat(ok('dm-v1', 40)) });
    w.at(30.5);
    const held = await w.step();
    expect(held.state).toBe('CANARY_ANALYSIS');
    expect(held.rollout!.decision).toMatchObject({ outcome: 'hold-failed', failed: 'maxMinutes', analysis: { canaryResults: 12, stableResults: 40 } });
    expect(w.split).toEqual({ 'dm-v1': 70, 'dm-v2': 30 });
    expect(w.undeployed).toEqual([]);
  });

  it('enough data before the limit: decided on the checks, not on time', async () => {
    const w = world({ analysis: { minResults: 100, minMinutes: 10, maxMinutes: 30 }, results: ok('dm-v2', 150).concat(ok('dm-v1', 300)) });
    w.at(30);
    expect((await w.step()).rollout!.decision).toMatchObject({ outcome: 'promote', failed: '' });
  });
});

describe('stepRollout: the error rate from Vertex AI counts', () => {
  // The workers retried every failed call until another deployed model answered: every result is OK.
  const results = ok('dm-v2', 150).concat(ok('dm-v1', 300));

  it('a canary failing 20% of its calls is rolled back on errorRate though every result is OK', async () => {
    const w = world({ analysis: { minResults: 100, minMinutes: 0 }, results, serving: { 'dm-v2': { requests: 190, errors: 38 }, 'dm-v1': { requests: 300, errors: 0 } } });
    w.at(5);
    const rec = await w.step();
    expect(rec.state).toBe('ROLLED_BACK');
    expect(rec.rollout!.decision!.failed).toBe('errorRate');
    const check = rec.rollout!.decision!.analysis!.checks.errorRate!;
    expect(check).toMatchObject({ outcome: 'fail', canary: 0.2, stable: 0 });
    expect(check.test).toContain('response_count');
    expect(rec.history[rec.history.length - 1]!.reason).toContain('error rate canary 0.2 vs stable 0 of 190 / 300 calls');
  });

  it('the same results without the counts: the check sees no error (what ERROR results alone would show)', async () => {
    const w = world({ analysis: { minResults: 100, minMinutes: 0 }, results });
    w.at(5);
    const rec = await w.step();
    expect(rec.rollout!.decision).toMatchObject({ outcome: 'promote' });
    expect(rec.rollout!.decision!.analysis!.checks.errorRate!.test).toContain('on ERROR results');
  });

  it('too few calls on an arm keeps the error-rate check waiting', async () => {
    const w = world({ analysis: { minResults: 100, minMinutes: 0 }, results, serving: { 'dm-v2': { requests: 99, errors: 0 }, 'dm-v1': { requests: 300, errors: 0 } } });
    w.at(5);
    const rec = await w.step();
    expect(rec.state).toBe('CANARY_ANALYSIS');
    expect(rec.rollout!.live).toMatchObject({ verdict: 'wait', waitingFor: 'not enough OK results or calls for errorRate' });
  });
});
