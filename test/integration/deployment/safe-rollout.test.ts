import { readStatus, renderStatus } from '#local/cli/status';
import { reconcile } from '#shared/deployment/reconcile';
import type { VersionRecord } from '#shared/deployment/core/records';
import { demoModelFiles, startDeploymentStack, waitFor, type DeploymentStack } from './deployment-stack';
import { goldenTree, sendTraffic } from './rollout-traffic';

const MODEL = 'rollout';
/** small samples and no minimum time, so each scenario takes seconds; the decision rules are the product's */
const ANALYSIS = { minResults: 100, minMinutes: 0, maxLabelShift: 0.3 };
/**
 * Every predict call takes 60 ms more, as a real model's would: the demo model answers in a few
 * ms, and the calls' time in this one busy process would otherwise be mostly event-loop noise.
 */
const BASE = { predictLatencyMs: 60 };

/**
 * Safe rollouts on the local stack: v1 stable, then canaries at 30% with a golden set and the
 * live analysis. One model, in order: permuted labels (golden gate), 3x slower and 20% failing
 * (analysis), then an identical v5 that waits on too few results and is promoted exactly once
 * under duplicate ticks.
 */
describe('safe rollouts: golden gate and canary analysis', () => {
  let stack: DeploymentStack;
  let v1: VersionRecord;
  let golden: Array<[string, Buffer]>;

  beforeAll(async () => {
    stack = await startDeploymentStack({ lroDelayMs: 200 });
    golden = await goldenTree(3);
    stack.startTicking(300);
    await stack.upload(MODEL, 'v1', demoModelFiles());
    v1 = await stack.waitForState(MODEL, 'v1', ['DEPLOYED']);
    stack.vertexEmulator.setFaults(BASE);
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });

  async function deployCanary(version: string, opts: { config?: string; analysis?: object } = {}) {
    const files = demoModelFiles().map(([p, b]): [string, Buffer] => [p, p === 'config.json' && opts.config ? Buffer.from(opts.config) : b]);
    const spec = { traffic: 'canary:30', rollout: { minGoldenAccuracy: 0.8, analysis: { ...ANALYSIS, ...opts.analysis } } };
    await stack.upload(MODEL, version, [['deploy.json', JSON.stringify(spec)], ...golden, ...files]);
    // DEPLOYED comes first, for a moment: the canary enters CANARY_ANALYSIS right after (a transition of its own)
    const rec = await stack.waitForState(MODEL, version, ['CANARY_ANALYSIS', 'FAILED', 'ROLLED_BACK']);
    expect(rec.history.map((h) => h.to).slice(-4)).toEqual(expect.arrayContaining(['DEPLOYING', 'DEPLOYED', 'CANARY_ANALYSIS']));
    return rec;
  }

  /** live traffic until the canary leaves CANARY_ANALYSIS */
  async function trafficUntilDecided(version: string, seed: number) {
    const rec = await stack.waitForPhase(MODEL, version, ['analysis', 'decided']);
    return sendTraffic({
      prediction: stack.prediction,
      firestore: stack.firestore,
      endpoint: rec.endpoint!,
      job: `traffic-${version}`,
      until: async () => (await stack.version(MODEL, version))?.state !== 'CANARY_ANALYSIS',
      maxCalls: 3000,
      seed,
    });
  }

  async function expectRolledBack(version: string, failed: string) {
    const rec = await stack.waitForState(MODEL, version, ['ROLLED_BACK', 'DEPLOYED'], 60_000);
    expect(rec.state).toBe('ROLLED_BACK');
    process.stdout.write(`[measure] ${version}: ${rec.history[rec.history.length - 1]!.reason}\n`);
    expect(rec.rollout?.decision).toMatchObject({ outcome: 'rollback' });
    expect(rec.rollout!.decision!.failed.split(',')).toContain(failed);
    const last = rec.history[rec.history.length - 1]!;
    expect(last).toMatchObject({ from: 'CANARY_ANALYSIS', to: 'ROLLED_BACK' });
    expect(last.reason).toContain(failed === 'goldenAccuracy' ? 'golden gate failed' : `failed on ${failed}`);
    // traffic back on v1 alone, the canary off the endpoint
    const [endpoint] = await stack.endpoints.getEndpoint({ name: v1.endpoint! });
    expect(endpoint.trafficSplit).toEqual({ [v1.deployedModelId!]: 100 });
    const onEndpoint = async () => (await stack.endpoints.getEndpoint({ name: v1.endpoint! }))[0].deployedModels!.map((d) => d.id);
    await waitFor(async () => !(await onEndpoint()).includes(rec.deployedModelId!) && (await stack.version(MODEL, version))?.operation == null, 20_000);
    expect(await onEndpoint()).toEqual([v1.deployedModelId]);
    expect(await stack.version(MODEL, version)).toMatchObject({ state: 'ROLLED_BACK', operation: null, trafficPercent: 0 });
    await waitFor(() => stack.modelEvents.some((e) => e.version === version && e.state === 'ROLLED_BACK'));
    const events = stack.modelEvents.filter((e) => e.version === version && e.state === 'ROLLED_BACK');
    expect(events).toHaveLength(1);
    expect(events[0]!.rollout).toMatchObject({ outcome: 'rollback', failed: rec.rollout!.decision!.failed });
    return rec;
  }

  it('v2 with permuted labels (config.json id2label shifted by one) fails the golden gate and is rolled back', async () => {
    const config = JSON.parse(demoModelFiles().find(([p]) => p === 'config.json')![1].toString('utf8'));
    config.id2label = Object.fromEntries(Object.keys(config.id2label).map((k) => [k, String((Number(k) + 1) % 10)]));
    const v2 = await deployCanary('v2', { config: JSON.stringify(config) });
    expect(v2.state).not.toBe('FAILED');
    const rec = await expectRolledBack('v2', 'goldenAccuracy');
    expect(rec.rollout!.decision!.golden!.canaryAccuracy).toBeLessThan(0.2);
    expect(rec.rollout!.decision!.golden!.stableAccuracy).toBeGreaterThanOrEqual(0.8);
    expect(rec.rollout!.decision!.golden!.images).toBe(30);
  }, 90_000);

  it('v3 made 3x slower passes the golden gate and is rolled back by the analysis on latencyP95', async () => {
    const v3 = await deployCanary('v3');
    stack.vertexEmulator.setFaults({ ...BASE, deployedModels: { [v3.deployedModelId!]: { latencyFactor: 3 } } });
    await trafficUntilDecided('v3', 3);
    const rec = await expectRolledBack('v3', 'latencyP95');
    expect(rec.rollout!.golden).toMatchObject({ pass: true });
    expect(rec.rollout!.decision!.analysis!.checks.latencyP95!.value).toBeGreaterThan(1.5);
    expect(rec.rollout!.decision!.analysis!.canaryResults).toBeGreaterThanOrEqual(ANALYSIS.minResults);
    stack.vertexEmulator.setFaults(BASE);
  }, 90_000);

  it('v4 failing 20% of its predicts is rolled back by the analysis on errorRate', async () => {
    const v4 = await deployCanary('v4');
    stack.vertexEmulator.setFaults({ ...BASE, deployedModels: { [v4.deployedModelId!]: { errorRate: 0.2 } } });
    await trafficUntilDecided('v4', 4);
    const rec = await expectRolledBack('v4', 'errorRate');
    const check = rec.rollout!.decision!.analysis!.checks.errorRate!;
    expect(check.canary).toBeGreaterThan(0.1);
    expect(check.stable).toBe(0);
    expect(check.pValue).toBeLessThan(0.05);
    stack.vertexEmulator.setFaults(BASE);
  }, 90_000);

  it('v5 identical to v1: no decision on too few results; then promoted automatically, exactly once under duplicate ticks', async () => {
    const v5 = await deployCanary('v5');
    const analysing = await stack.waitForPhase(MODEL, 'v5', ['analysis']);

    // Act: a little traffic, then several ticks
    await sendTraffic({ prediction: stack.prediction, firestore: stack.firestore, endpoint: v5.endpoint!, job: 'traffic-v5-few', until: () => false, maxCalls: 40, seed: 50 });
    await waitFor(async () => ((await stack.version(MODEL, 'v5'))?.rollout?.live?.canaryResults ?? 0) > 0, 20_000);
    const ticked = (await stack.version(MODEL, 'v5'))!.rollout!.live!.at;
    await waitFor(async () => (await stack.version(MODEL, 'v5'))!.rollout!.live!.at > ticked, 20_000);

    // Assess: figures, no decision
    const waiting = (await stack.version(MODEL, 'v5'))!;
    expect(waiting.state).toBe('CANARY_ANALYSIS');
    expect(waiting.rollout).toMatchObject({ phase: 'analysis', live: { verdict: 'wait' } });
    expect(waiting.rollout!.live!.waitingFor).toMatch(/canary has \d+ of 100 results/);
    expect(waiting.rollout!.decision).toBeUndefined();
    expect(analysing.rollout!.golden).toMatchObject({ pass: true });
    // dropship status shows the live figures
    const shown = renderStatus(await readStatus(stack.firestore, MODEL));
    expect(shown).toMatch(/v5 +CANARY_ANALYSIS +30%/);
    expect(shown).toMatch(/analysis: \d+ canary \/ \d+ stable results; waiting: canary has \d+ of 100 results/);
    expect(shown).toMatch(/golden gate passed: canary \d+\/30/);
    expect(shown).toMatch(/error rate +canary 0 +stable 0/);

    // Act: enough traffic with the scheduler stopped, then duplicate ticks all at once
    stack.stopTicking();
    await sendTraffic({
      prediction: stack.prediction,
      firestore: stack.firestore,
      endpoint: v5.endpoint!,
      job: 'traffic-v5',
      until: async () => {
        const snap = await stack.firestore.collectionGroup('results').where('deployedModelId', '==', v5.deployedModelId).count().get();
        return snap.data().count >= ANALYSIS.minResults + 10;
      },
      maxCalls: 3000,
      seed: 5,
    });
    const ctxOpts = { stuckAfterMs: 3_600_000 };
    await Promise.all([...Array.from({ length: 4 }, () => reconcile(stack.ctx, ctxOpts)), ...Array.from({ length: 4 }, () => stack.tick())]);
    stack.startTicking(300);
    const promoted = await stack.waitForState(MODEL, 'v5', ['DEPLOYED', 'ROLLED_BACK'], 60_000);

    // Assess: promoted once, with its numbers
    expect(promoted.state).toBe('DEPLOYED');
    process.stdout.write(`[measure] v5: ${promoted.history[promoted.history.length - 1]!.reason}\n`);
    expect(promoted.rollout!.decision).toMatchObject({ outcome: 'promote', stage: 'analysis', failed: '' });
    expect(promoted.history.filter((h) => h.from === 'CANARY_ANALYSIS')).toHaveLength(1);
    expect(promoted.history[promoted.history.length - 1]!.reason).toMatch(/^canary analysis passed: \d+ canary \/ \d+ stable results/);
    const checks = promoted.rollout!.decision!.analysis!.checks;
    expect(Object.values(checks).map((c) => c!.outcome)).toEqual(['pass', 'pass', 'pass', 'pass']);
    const [endpoint] = await stack.endpoints.getEndpoint({ name: v1.endpoint! });
    expect(endpoint.trafficSplit).toEqual({ [promoted.deployedModelId!]: 100 });
    const v1After = await stack.waitForState(MODEL, 'v1', ['SUPERSEDED'], 30_000);
    expect(v1After.history.filter((h) => h.to === 'SUPERSEDED')).toHaveLength(1);
    await waitFor(() => stack.modelEvents.some((e) => e.version === 'v5' && e.from === 'CANARY_ANALYSIS'));
    await new Promise((r) => setTimeout(r, 1000)); // a second message would be on its way by now
    const decided = stack.modelEvents.filter((e) => e.version === 'v5' && e.from === 'CANARY_ANALYSIS');
    expect(decided).toHaveLength(1);
    expect(decided[0]).toMatchObject({ state: 'DEPLOYED', trafficPercent: 100, rollout: { outcome: 'promote' } });
    expect(renderStatus(await readStatus(stack.firestore, MODEL))).toMatch(/decision: promote \(analysis\) at /);
  }, 120_000);
});
