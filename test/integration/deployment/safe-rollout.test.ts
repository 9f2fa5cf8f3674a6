import { readStatus, renderStatus } from '#local/cli/status';
import { reconcile } from '#shared/deployment/reconcile';
import type { VersionRecord } from '#shared/deployment/core/records';
import { demoModelFiles, startDeploymentStack, waitFor, type DeploymentStack } from './deployment-stack';
import { goldenTree, startLabeling, type Labeling } from './rollout-traffic';

const MODEL = 'rollout';
/**
 * small samples and no minimum time, so each scenario takes about a minute; the decision rules
 * are the product's. 50 calls per arm: a 20% error rate is caught with probability 0.95 in general,
 * and with these seeds' draws (9 failures in the canary's first 50 calls) with p ~ 0.001.
 */
const ANALYSIS = { minResults: 100, minCalls: 50, minMinutes: 0, maxLabelShift: 0.3 };
/**
 * Every predict call takes 60 ms more, as a real model's would: the demo model answers in a few
 * ms, and the calls' time in this one busy process would otherwise be mostly event-loop noise.
 */
const BASE = { predictLatencyMs: 60 };

/** the Vertex AI emulator's faults for one scenario, with its traffic split's draws seeded (printed, to replay) */
function faultsFor(version: string, seed: number, deployedModels: Record<string, object> = {}) {
  process.stdout.write(`[seed] ${version}: trafficSeed ${seed} (the split's and the faults' draws), digits seed ${seed}\n`);
  return { ...BASE, trafficSeed: seed, deployedModels };
}

/**
 * Safe rollouts on the local stack: v1 stable, then canaries at 30% with a golden set and the
 * live analysis, judged on what the real labeling pipeline does: digits dropped in the images
 * bucket, labeled by image-intake and predict-worker through the endpoint's split, and Vertex AI's
 * own per-deployed-model call counts (the emulator's Cloud Monitoring stand-in). One model, in
 * order: permuted labels (golden gate), 3x slower and 20% failing (analysis), an analysis without
 * traffic (its time limit), then an identical v6 that waits on too few results and is promoted
 * exactly once under duplicate ticks.
 */
describe('safe rollouts: golden gate and canary analysis', () => {
  let stack: DeploymentStack;
  let v1: VersionRecord;
  let golden: Array<[string, Buffer]>;
  let labeling: Labeling;

  beforeAll(async () => {
    stack = await startDeploymentStack({ lroDelayMs: 200 });
    golden = await goldenTree(3);
    stack.startTicking(300);
    await stack.upload(MODEL, 'v1', demoModelFiles());
    v1 = await stack.waitForState(MODEL, 'v1', ['DEPLOYED']);
    stack.vertexEmulator.setFaults(faultsFor('v2', 2));
    labeling = await startLabeling(stack, MODEL);
  }, 180_000);
  afterAll(async () => {
    await labeling?.close();
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

  /** images through the labeling pipeline until the canary leaves CANARY_ANALYSIS */
  async function trafficUntilDecided(version: string, seed: number) {
    await stack.waitForPhase(MODEL, version, ['analysis', 'decided']);
    const images = await labeling.sendImages({ job: `traffic-${version}`, seed, maxImages: 3000, until: async () => (await stack.version(MODEL, version))?.state !== 'CANARY_ANALYSIS' });
    const rec = await stack.version(MODEL, version);
    process.stdout.write(`[measure] ${version}: ${images} images sent before the decision (${rec?.state}: ${rec?.rollout?.decision?.summary ?? rec?.rollout?.live?.summary})\n`);
  }

  async function expectRolledBack(version: string, failed: string) {
    const rec = await stack.waitForState(MODEL, version, ['ROLLED_BACK', 'DEPLOYED'], 60_000);
    expect(rec.state).toBe('ROLLED_BACK');
    process.stdout.write(`[measure] ${version}: ${rec.history[rec.history.length - 1]!.reason}\n`);
    expect(rec.rollout?.decision).toMatchObject({ outcome: 'rollback' });
    expect(rec.rollout!.decision!.failed.split(',')).toContain(failed);
    const last = rec.history[rec.history.length - 1]!;
    expect(last).toMatchObject({ from: 'CANARY_ANALYSIS', to: 'ROLLED_BACK' });
    expect(last.reason).toContain(failed === 'goldenAccuracy' ? 'golden gate failed' : failed === 'maxMinutes' ? 'canary analysis timed out after' : `failed on ${failed}`);
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
    const config = JSON.parse(
      demoModelFiles()
        .find(([p]) => p === 'config.json')![1]
        .toString('utf8'),
    );
    config.id2label = Object.fromEntries(Object.keys(config.id2label).map((k) => [k, String((Number(k) + 1) % 10)]));
    const v2 = await deployCanary('v2', { config: JSON.stringify(config) });
    expect(v2.state).not.toBe('FAILED');
    const rec = await expectRolledBack('v2', 'goldenAccuracy');
    expect(rec.rollout!.decision!.golden!.canaryAccuracy).toBeLessThan(0.2);
    expect(rec.rollout!.decision!.golden!.stableAccuracy).toBeGreaterThanOrEqual(0.8);
    expect(rec.rollout!.decision!.golden!.images).toBe(30);
  }, 180_000);

  it('v3 made 3x slower passes the golden gate and is rolled back by the analysis on latencyP95', async () => {
    const v3 = await deployCanary('v3');
    stack.vertexEmulator.setFaults(faultsFor('v3', 3, { [v3.deployedModelId!]: { latencyFactor: 3 } }));
    await trafficUntilDecided('v3', 3);
    const rec = await expectRolledBack('v3', 'latencyP95');
    expect(rec.rollout!.golden).toMatchObject({ pass: true });
    expect(rec.rollout!.decision!.analysis!.checks.latencyP95!.value).toBeGreaterThan(1.5);
    expect(rec.rollout!.decision!.analysis!.canaryResults).toBeGreaterThanOrEqual(ANALYSIS.minResults);
    stack.vertexEmulator.setFaults(BASE);
  }, 180_000);

  it("v4 failing 20% of its predicts is rolled back by the analysis on errorRate, from Vertex AI's counts (the workers' results show no error)", async () => {
    const v4 = await deployCanary('v4');
    stack.vertexEmulator.setFaults(faultsFor('v4', 4, { [v4.deployedModelId!]: { errorRate: 0.2 } }));
    await trafficUntilDecided('v4', 4);
    const rec = await expectRolledBack('v4', 'errorRate');
    const check = rec.rollout!.decision!.analysis!.checks.errorRate!;
    expect(check.test).toContain("Vertex AI's Predict calls");
    expect(check.canary).toBeGreaterThan(0.1);
    expect(check.stable).toBe(0);
    expect(check.pValue).toBeLessThan(0.05);
    // the worker retried (Pub/Sub redelivered) every failed call: no result names a failure of v4
    const errors = await stack.firestore.collectionGroup('results').where('status', '==', 'ERROR').count().get();
    expect(errors.data().count).toBe(0);
    expect(rec.history[rec.history.length - 1]!.reason).toMatch(/error rate canary [\d.]+ vs stable 0 of \d+ \/ \d+ calls/);
    stack.vertexEmulator.setFaults(BASE);
  }, 180_000);

  it('v5 on an endpoint without traffic: waits, then at maxMinutes is rolled back on the time limit with its numbers', async () => {
    await deployCanary('v5', { analysis: { maxMinutes: 0.15 } });
    const waiting = await stack.waitForPhase(MODEL, 'v5', ['analysis']);
    expect(waiting.state).toBe('CANARY_ANALYSIS');
    const rec = await expectRolledBack('v5', 'maxMinutes');
    expect(rec.rollout!.decision).toMatchObject({ outcome: 'rollback', stage: 'analysis', failed: 'maxMinutes', analysis: { canaryResults: 0 } });
    expect(rec.rollout!.decision!.analysis!.minutes).toBeGreaterThanOrEqual(0.15);
    expect(rec.rollout!.decision!.summary).toMatch(/^canary analysis timed out after [\d.]+ min \(maxMinutes 0\.15\), still waiting for: canary has 0 of 100 results/);
  }, 180_000);

  it('v6 identical to v1: no decision on too few results; then promoted automatically, exactly once under duplicate ticks', async () => {
    const v6 = await deployCanary('v6');
    stack.vertexEmulator.setFaults(faultsFor('v6', 6));
    const analysing = await stack.waitForPhase(MODEL, 'v6', ['analysis']);

    // Act: a little traffic, then several ticks
    await labeling.sendImages({ job: 'traffic-v6-few', seed: 60, maxImages: 40, until: () => false });
    await waitFor(async () => ((await stack.version(MODEL, 'v6'))?.rollout?.live?.canaryResults ?? 0) > 0, 20_000);
    const ticked = (await stack.version(MODEL, 'v6'))!.rollout!.live!.at;
    await waitFor(async () => (await stack.version(MODEL, 'v6'))!.rollout!.live!.at > ticked, 20_000);

    // Assess: figures, no decision
    const waiting = (await stack.version(MODEL, 'v6'))!;
    expect(waiting.state).toBe('CANARY_ANALYSIS');
    expect(waiting.rollout).toMatchObject({ phase: 'analysis', live: { verdict: 'wait' } });
    expect(waiting.rollout!.live!.waitingFor).toMatch(/canary has \d+ of 100 results/);
    expect(waiting.rollout!.decision).toBeUndefined();
    expect(analysing.rollout!.golden).toMatchObject({ pass: true });
    // dropship status shows the live figures
    const shown = renderStatus(await readStatus(stack.firestore, MODEL));
    expect(shown).toMatch(/v6 +CANARY_ANALYSIS +30%/);
    expect(shown).toMatch(/analysis: \d+ canary \/ \d+ stable results; waiting: canary has \d+ of 100 results/);
    expect(shown).toMatch(/golden gate passed: canary \d+\/30/);
    // fewer than 30 calls on the canary: the error-rate test waits for its sample
    expect(shown).toMatch(/\.\. +error rate +canary - +stable -/);

    // Act: enough traffic with the scheduler stopped, then duplicate ticks all at once
    stack.stopTicking();
    await labeling.sendImages({
      job: 'traffic-v6',
      seed: 6,
      maxImages: 3000,
      until: async () => {
        const snap = await stack.firestore.collectionGroup('results').where('deployedModelId', '==', v6.deployedModelId).count().get();
        return snap.data().count >= ANALYSIS.minResults + 10;
      },
    });
    const ctxOpts = { stuckAfterMs: 3_600_000 };
    await Promise.all([...Array.from({ length: 4 }, () => reconcile(stack.ctx, ctxOpts)), ...Array.from({ length: 4 }, () => stack.tick())]);
    stack.startTicking(300);
    const promoted = await stack.waitForState(MODEL, 'v6', ['DEPLOYED', 'ROLLED_BACK'], 60_000);

    // Assess: promoted once, with its numbers
    expect(promoted.state).toBe('DEPLOYED');
    process.stdout.write(`[measure] v6: ${promoted.history[promoted.history.length - 1]!.reason}\n`);
    expect(promoted.rollout!.decision).toMatchObject({ outcome: 'promote', stage: 'analysis', failed: '' });
    expect(promoted.history.filter((h) => h.from === 'CANARY_ANALYSIS')).toHaveLength(1);
    expect(promoted.history[promoted.history.length - 1]!.reason).toMatch(/^canary analysis passed: \d+ canary \/ \d+ stable results/);
    const checks = promoted.rollout!.decision!.analysis!.checks;
    expect(Object.values(checks).map((c) => c!.outcome)).toEqual(['pass', 'pass', 'pass', 'pass']);
    const [endpoint] = await stack.endpoints.getEndpoint({ name: v1.endpoint! });
    expect(endpoint.trafficSplit).toEqual({ [promoted.deployedModelId!]: 100 });
    const v1After = await stack.waitForState(MODEL, 'v1', ['SUPERSEDED'], 30_000);
    expect(v1After.history.filter((h) => h.to === 'SUPERSEDED')).toHaveLength(1);
    await waitFor(() => stack.modelEvents.some((e) => e.version === 'v6' && e.from === 'CANARY_ANALYSIS'));
    await new Promise((r) => setTimeout(r, 1000)); // a second message would be on its way by now
    const decided = stack.modelEvents.filter((e) => e.version === 'v6' && e.from === 'CANARY_ANALYSIS');
    expect(decided).toHaveLength(1);
    expect(decided[0]).toMatchObject({ state: 'DEPLOYED', trafficPercent: 100, rollout: { outcome: 'promote' } });
    expect(renderStatus(await readStatus(stack.firestore, MODEL))).toMatch(/decision: promote \(analysis\) at /);
  }, 180_000);
});
