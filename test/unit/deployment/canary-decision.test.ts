import { judgeCanary, describeVerdict, type ArmSample } from '#shared/deployment/core/canary-decision';
import { analysisPolicySchema } from '#shared/deployment/core/rollout-policy';
import { goldenFromTree, judgeGolden, parseGoldenJsonl, scoreGolden } from '#shared/deployment/core/golden-set';
import { defaultGoldenCalls, rolloutPolicySchema } from '#shared/deployment/core/rollout-policy';
import { parseDeploySpec } from '#shared/deployment/core/deploy-spec';

const policy = analysisPolicySchema.parse({ minResults: 100, minMinutes: 10 });

/** n results: `errors` of them ERROR, the rest OK with the given latency, confidence and labels cycling 0..9 */
function arm(n: number, o: { errors?: number; latency?: (i: number) => number; confidence?: number; labels?: (i: number) => string } = {}): ArmSample {
  const errors = o.errors ?? 0;
  const ok = n - errors;
  const labels: Record<string, number> = {};
  for (let i = 0; i < ok; i++) {
    const l = (o.labels ?? ((k) => String(k % 10)))(i);
    labels[l] = (labels[l] ?? 0) + 1;
  }
  return {
    results: n,
    errors,
    latenciesMs: Array.from({ length: ok }, (_, i) => (o.latency ?? ((k) => 10 + (k % 10)))(i)),
    confidences: Array.from({ length: ok }, () => o.confidence ?? 0.9),
    labels,
  };
}

describe('the canary decision', () => {
  it('no decision before minResults per arm and minMinutes, whatever the figures say', () => {
    const v = judgeCanary(policy, arm(99, { errors: 50 }), arm(300), 30);
    expect(v.verdict).toBe('wait');
    expect(v.waitingFor).toBe('canary has 99 of 100 results');
    expect(v.failed).toContain('errorRate'); // shown, not acted on
    expect(judgeCanary(policy, arm(200), arm(200), 9.5)).toMatchObject({ verdict: 'wait', waitingFor: '9.5 of 10 minutes' });
    expect(judgeCanary(policy, arm(200), arm(50), 12).waitingFor).toBe('stable has 50 of 100 results');
  });

  it('the same behaviour on both arms passes every check', () => {
    const v = judgeCanary(policy, arm(200), arm(600), 12);
    expect(v.verdict).toBe('pass');
    expect(v.checks.map((c) => [c.metric, c.outcome])).toEqual([
      ['errorRate', 'pass'],
      ['latencyP95', 'pass'],
      ['confidence', 'pass'],
      ['labelShift', 'pass'],
    ]);
    expect(describeVerdict(v)).toMatch(/^200 canary \/ 600 stable results over 12\.0 min: error rate canary 0 vs stable 0/);
  });

  it('each check fails on its own fault, naming the metric', () => {
    expect(judgeCanary(policy, arm(200, { errors: 40 }), arm(200), 12)).toMatchObject({ verdict: 'fail', failed: ['errorRate'] });
    // 3x slower: p95 30 x 19 / 19 = 3
    const slow = judgeCanary(policy, arm(200, { latency: (k) => 3 * (10 + (k % 10)) }), arm(200), 12);
    expect(slow).toMatchObject({ verdict: 'fail', failed: ['latencyP95'] });
    expect(slow.checks[1]).toMatchObject({ canary: 57, stable: 19, value: 3 });
    const unsure = judgeCanary(policy, arm(200, { confidence: 0.7 }), arm(200, { confidence: 0.85 }), 12);
    expect(unsure.failed).toEqual(['confidence']);
    expect(unsure.checks[2]!.value).toBeCloseTo(0.15, 12);
    const shifted = judgeCanary(policy, arm(200, { labels: (k) => String(k % 3) }), arm(200), 12);
    expect(shifted.failed).toEqual(['labelShift']);
    expect(shifted.checks[3]!.pValue).toBeLessThan(0.05);
  });

  it('an error-rate increase inside the margin is not a failure; the margin is absolute', () => {
    // 3/200 vs 0/200 with margin 0.02: not significant
    expect(judgeCanary(policy, arm(200, { errors: 3 }), arm(200), 12).verdict).toBe('pass');
  });

  it('still short of the minimums at maxMinutes: waiting, marked timedOut (the policy decides); never before', () => {
    const p = analysisPolicySchema.parse({ minResults: 100, minMinutes: 10, maxMinutes: 60 });
    expect(judgeCanary(p, arm(5), arm(20), 59.99)).toMatchObject({ verdict: 'wait', waitingFor: 'canary has 5 of 100 results; stable has 20 of 100 results' });
    expect(judgeCanary(p, arm(5), arm(20), 59.99).timedOut).toBeUndefined();
    expect(judgeCanary(p, arm(5), arm(20), 60)).toMatchObject({ verdict: 'wait', timedOut: true });
    // enough data at the limit: the checks decide
    expect(judgeCanary(p, arm(200), arm(200), 61)).toMatchObject({ verdict: 'pass' });
    expect(judgeCanary(p, arm(200), arm(200), 61).timedOut).toBeUndefined();
  });

  it("the error rate comes from Vertex AI's call counts when both arms have them (at least minCalls, 100, each)", () => {
    const withCalls = (a: ArmSample, requests: number, errors: number): ArmSample => ({ ...a, serving: { requests, errors } });
    // every result OK (the workers' retries hid the failures), but 20% of the canary's calls failed
    const v = judgeCanary(policy, withCalls(arm(200), 250, 50), withCalls(arm(200), 250, 0), 12);
    expect(v).toMatchObject({ verdict: 'fail', failed: ['errorRate'], calls: { canary: 250, stable: 250 } });
    expect(v.checks[0]).toMatchObject({ canary: 0.2, stable: 0, value: 0.2 });
    expect(v.checks[0]!.pValue).toBeLessThan(1e-6);
    expect(describeVerdict(v)).toContain('error rate canary 0.2 vs stable 0 of 250 / 250 calls');
    // one arm without counts: back to ERROR results
    expect(judgeCanary(policy, withCalls(arm(200), 250, 50), arm(200), 12).verdict).toBe('pass');
    expect(judgeCanary(policy, withCalls(arm(200), 99, 30), withCalls(arm(200), 250, 0), 12)).toMatchObject({ verdict: 'wait', waitingFor: 'not enough OK results or calls for errorRate' });
  });

  it('a check without its minimum sample keeps the decision waiting (p95 needs 20 OK results per arm)', () => {
    const p = analysisPolicySchema.parse({ minResults: 10, minMinutes: 0 });
    const v = judgeCanary(p, arm(15), arm(15), 1);
    expect(v).toMatchObject({ verdict: 'wait', waitingFor: 'not enough OK results or calls for latencyP95' });
  });
});

describe('the golden set', () => {
  it('reads golden.jsonl (relative URIs inside the version folder) and the _golden/<label>/<file> tree', () => {
    const parsed = parseGoldenJsonl('{"uri": "a.png", "label": "3"}\n\n{"uri": "gs://other/x.png", "label": "7"}\n', 'gs://models/m/v2/');
    expect(parsed).toEqual({
      ok: true,
      items: [
        { uri: 'gs://models/m/v2/a.png', label: '3' },
        { uri: 'gs://other/x.png', label: '7' },
      ],
    });
    expect(parseGoldenJsonl('{"uri": "a.png"}', 'gs://b/m/v/')).toEqual({ ok: false, reason: 'golden set line 1: label: Invalid input: expected string, received undefined' });
    expect(parseGoldenJsonl('nope', 'gs://b/m/v/')).toEqual({ ok: false, reason: 'golden set line 1 is not JSON' });
    expect(goldenFromTree(['7/b.png', '3/a.png', 'stray.png', '3/deep/x.png'], 'gs://b/m/v/_golden/')).toEqual([
      { uri: 'gs://b/m/v/_golden/3/a.png', label: '3' },
      { uri: 'gs://b/m/v/_golden/7/b.png', label: '7' },
    ]);
  });

  it('passes a canary as good as stable; fails permuted labels, a drop beyond the margin, and an unreached canary', () => {
    const items = Array.from({ length: 10 }, (_, i) => ({ uri: `gs://b/${i}`, label: String(i) }));
    const right = new Map(items.map((i) => [i.uri, i.label]));
    const permuted = new Map(items.map((i) => [i.uri, String((Number(i.label) + 1) % 10)]));
    const nineRight = new Map(items.map((i, k) => [i.uri, k === 0 ? 'x' : i.label]));
    const policy = { minGoldenAccuracy: 0.8, maxGoldenAccuracyDrop: 0.05 };
    expect(judgeGolden(policy, items, scoreGolden(items, right), scoreGolden(items, right), 3).pass).toBe(true);
    const bad = judgeGolden(policy, items, scoreGolden(items, permuted), scoreGolden(items, right), 4);
    expect(bad).toMatchObject({ pass: false, canary: { answered: 10, correct: 0, accuracy: 0 } });
    expect(bad.reason).toBe('golden gate failed: canary 0/10 (0.0%), stable 10/10 (100.0%) of 10 golden images in 4 predict calls; below minGoldenAccuracy 0.8');
    expect(judgeGolden(policy, items, scoreGolden(items, nineRight), scoreGolden(items, right), 2).reason).toMatch(/more than maxGoldenAccuracyDrop 0.05 below stable/);
    expect(judgeGolden(policy, items, scoreGolden(items, new Map([...right].slice(0, 4))), scoreGolden(items, right), 33).reason).toBe(
      'golden gate: the canary answered only 4 of 10 images in 33 calls',
    );
  });

  it('the default call budget misses a canary at its share with probability < 1e-4', () => {
    expect(defaultGoldenCalls(30)).toBe(26); // 0.7^26 = 9.4e-5, 0.7^25 = 1.3e-4
    expect(defaultGoldenCalls(10)).toBe(88);
    expect(0.7 ** 26).toBeLessThan(1e-4);
    expect(0.7 ** 25).toBeGreaterThan(1e-4);
  });
});

describe('deploy.json rollout', () => {
  it('defaults every field, and needs a canary', () => {
    const spec = parseDeploySpec(JSON.stringify({ traffic: 'canary:20', rollout: {} }));
    expect(spec.ok && spec.spec.rollout).toEqual({
      minGoldenAccuracy: 0.9,
      maxGoldenAccuracyDrop: 0.05,
      analysis: {
        minResults: 300,
        minMinutes: 10,
        maxMinutes: 1440,
        onTimeout: 'rollback',
        minCalls: 100,
        maxErrorRateIncrease: 0.02,
        maxLatencyP95Ratio: 1.5,
        maxConfidenceDrop: 0.1,
        maxLabelShift: 0.2,
        alpha: 0.05,
      },
      onPass: 'promote',
      onFail: 'rollback',
    });
    expect(parseDeploySpec(JSON.stringify({ rollout: {} }))).toEqual({ ok: false, reason: "deploy.json is invalid: rollout: a rollout policy judges a canary: set traffic to 'canary:<percent>'" });
    const bad = parseDeploySpec(JSON.stringify({ traffic: 'canary:20', rollout: { analysis: { minResult: 3 } } }));
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.reason).toMatch(/rollout\.analysis/);
    expect(rolloutPolicySchema.safeParse({ golden: '../x.jsonl' }).success).toBe(false);
    expect(analysisPolicySchema.safeParse({ minMinutes: 30, maxMinutes: 30 }).success).toBe(false);
    expect(analysisPolicySchema.safeParse({ onTimeout: 'promote' }).success).toBe(false);
  });
});
