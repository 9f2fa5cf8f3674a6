import type { AnalysisPolicy } from './rollout-policy';
import { errorRateTest, gTest, jensenShannonDistance, mean, percentile } from './canary-stats';

/** What one arm (the canary, or the stable versions together) produced over the analysis window. */
export interface ArmSample {
  /** results attributed to the arm's deployed model(s) */
  results: number;
  /** of which status ERROR */
  errors: number;
  /** predict latency of each OK result, ms */
  latenciesMs: number[];
  /** confidence of each OK result */
  confidences: number[];
  /** label -> OK results */
  labels: Record<string, number>;
  /**
   * Vertex AI's own count of the Predict calls the arm's deployed model(s) answered and of those
   * that failed (5xx), retries included; when present the error rate is taken from it, since a
   * failed call reaches the caller without naming the deployed model that failed it
   */
  serving?: { requests: number; errors: number };
}

export const CHECKS = ['errorRate', 'latencyP95', 'confidence', 'labelShift'] as const;
export type CheckName = (typeof CHECKS)[number];

export interface CheckFigures {
  metric: CheckName;
  /** 'pass' | 'fail', or 'insufficient' when the sample is too small for this check */
  outcome: 'pass' | 'fail' | 'insufficient';
  canary: number | null;
  stable: number | null;
  /** the compared quantity (difference, ratio, distance) */
  value: number | null;
  threshold: number;
  pValue?: number;
  test: string;
}

export interface AnalysisVerdict {
  verdict: 'wait' | 'pass' | 'fail';
  /** why there is no decision yet */
  waitingFor?: string;
  /** still waiting after `maxMinutes`: the policy's `onTimeout` decides */
  timedOut?: boolean;
  failed: CheckName[];
  checks: CheckFigures[];
  canaryResults: number;
  stableResults: number;
  /** Vertex AI's count of Predict calls per arm, when the error rate was taken from it */
  calls?: { canary: number; stable: number };
  minutes: number;
}

/** OK results each arm needs for a p95 (nearest rank: the 19th of 20 is the first above the median-ish noise) */
export const MIN_LATENCY_SAMPLE = 20;

/**
 * Judges a canary against stable over the same window. Nothing is decided before both arms
 * have `minResults` results and `minMinutes` have passed; figures are computed anyway so they
 * can be shown. Then any failed check fails the canary; all passing passes it; a check without
 * enough data (no OK results yet, fewer than 20 latencies) keeps it waiting.
 *
 * The decision is taken at the first tick with enough data, not re-tested on every tick until
 * something fails: repeated looks would inflate the tests' false-alarm rate. An analysis still
 * waiting after `maxMinutes` is marked `timedOut`, for the policy's `onTimeout` to decide.
 */
export function judgeCanary(policy: AnalysisPolicy, canary: ArmSample, stable: ArmSample, minutes: number): AnalysisVerdict {
  const checks = [errorRateCheck(policy, canary, stable), latencyCheck(policy, canary, stable), confidenceCheck(policy, canary, stable), labelShiftCheck(policy, canary, stable)];
  const failed = checks.filter((c) => c.outcome === 'fail').map((c) => c.metric);
  const calls = canary.serving && stable.serving ? { calls: { canary: canary.serving.requests, stable: stable.serving.requests } } : {};
  const base = { failed, checks, canaryResults: canary.results, stableResults: stable.results, minutes, ...calls };
  const short: string[] = [];
  if (canary.results < policy.minResults) short.push(`canary has ${canary.results} of ${policy.minResults} results`);
  if (stable.results < policy.minResults) short.push(`stable has ${stable.results} of ${policy.minResults} results`);
  if (minutes < policy.minMinutes) short.push(`${minutes.toFixed(1)} of ${policy.minMinutes} minutes`);
  const timedOut = minutes >= policy.maxMinutes ? { timedOut: true } : {};
  if (short.length > 0) return { verdict: 'wait', waitingFor: short.join('; '), ...timedOut, ...base };
  if (failed.length > 0) return { verdict: 'fail', ...base };
  const insufficient = checks.filter((c) => c.outcome === 'insufficient').map((c) => c.metric);
  if (insufficient.length > 0) return { verdict: 'wait', waitingFor: `not enough OK results or calls for ${insufficient.join(', ')}`, ...timedOut, ...base };
  return { verdict: 'pass', ...base };
}

function errorRateCheck(policy: AnalysisPolicy, canary: ArmSample, stable: ArmSample): CheckFigures {
  const onServing = canary.serving !== undefined && stable.serving !== undefined;
  const test = `one-sided two-proportion z-test (Agresti-Caffo), H0: canary - stable <= maxErrorRateIncrease, ${
    onServing ? `on Vertex AI's Predict calls per deployed model (5xx of response_count), each arm >= ${policy.minCalls} calls` : 'on ERROR results'
  }`;
  const [c, s] = onServing
    ? [
        { errors: canary.serving!.errors, n: canary.serving!.requests },
        { errors: stable.serving!.errors, n: stable.serving!.requests },
      ]
    : [
        { errors: canary.errors, n: canary.results },
        { errors: stable.errors, n: stable.results },
      ];
  const floor = onServing ? policy.minCalls : 1;
  if (c.n < floor || s.n < floor) return { metric: 'errorRate', outcome: 'insufficient', canary: null, stable: null, value: null, threshold: policy.maxErrorRateIncrease, test };
  const t = errorRateTest(c, s, policy.maxErrorRateIncrease);
  return {
    metric: 'errorRate',
    outcome: t.pValue < policy.alpha ? 'fail' : 'pass',
    canary: t.canaryRate,
    stable: t.stableRate,
    value: t.canaryRate - t.stableRate,
    threshold: policy.maxErrorRateIncrease,
    pValue: t.pValue,
    test,
  };
}

function latencyCheck(policy: AnalysisPolicy, canary: ArmSample, stable: ArmSample): CheckFigures {
  const test = `p95 (nearest rank) of predict latency, canary / stable, each arm >= ${MIN_LATENCY_SAMPLE} OK results`;
  if (canary.latenciesMs.length < MIN_LATENCY_SAMPLE || stable.latenciesMs.length < MIN_LATENCY_SAMPLE) {
    return { metric: 'latencyP95', outcome: 'insufficient', canary: null, stable: null, value: null, threshold: policy.maxLatencyP95Ratio, test };
  }
  const c = percentile(canary.latenciesMs, 0.95);
  const s = percentile(stable.latenciesMs, 0.95);
  // a stable p95 of 0 ms (a clock that rounds) is taken as 1 ms, so the ratio stays finite
  const ratio = c / Math.max(s, 1);
  return { metric: 'latencyP95', outcome: ratio > policy.maxLatencyP95Ratio ? 'fail' : 'pass', canary: c, stable: s, value: ratio, threshold: policy.maxLatencyP95Ratio, test };
}

function confidenceCheck(policy: AnalysisPolicy, canary: ArmSample, stable: ArmSample): CheckFigures {
  const test = 'mean confidence of OK results, stable - canary';
  if (canary.confidences.length === 0 || stable.confidences.length === 0) {
    return { metric: 'confidence', outcome: 'insufficient', canary: null, stable: null, value: null, threshold: policy.maxConfidenceDrop, test };
  }
  const c = mean(canary.confidences);
  const s = mean(stable.confidences);
  return { metric: 'confidence', outcome: s - c > policy.maxConfidenceDrop ? 'fail' : 'pass', canary: c, stable: s, value: s - c, threshold: policy.maxConfidenceDrop, test };
}

function labelShiftCheck(policy: AnalysisPolicy, canary: ArmSample, stable: ArmSample): CheckFigures {
  const test = 'Jensen-Shannon distance (base 2) of label distributions; fails when above maxLabelShift and the G-test of homogeneity rejects at alpha';
  const okC = Object.values(canary.labels).reduce((s, v) => s + v, 0);
  const okS = Object.values(stable.labels).reduce((s, v) => s + v, 0);
  if (okC === 0 || okS === 0) return { metric: 'labelShift', outcome: 'insufficient', canary: null, stable: null, value: null, threshold: policy.maxLabelShift, test };
  const distance = jensenShannonDistance(canary.labels, stable.labels);
  const g = gTest(canary.labels, stable.labels);
  // distance alone flags small samples (two draws of one distribution differ); the G-test alone flags tiny shifts in huge ones
  const fail = distance > policy.maxLabelShift && g.pValue < policy.alpha;
  return { metric: 'labelShift', outcome: fail ? 'fail' : 'pass', canary: null, stable: null, value: distance, threshold: policy.maxLabelShift, pValue: g.pValue, test };
}

/** One line naming the failed checks with their numbers, for history reasons and logs. */
export function describeVerdict(v: AnalysisVerdict): string {
  const fmt = (x: number | null, digits = 3) => (x === null ? '-' : Number(x.toFixed(digits)).toString());
  const parts = v.checks.map((c) => {
    switch (c.metric) {
      case 'errorRate':
        return `error rate canary ${fmt(c.canary)} vs stable ${fmt(c.stable)}${v.calls ? ` of ${v.calls.canary} / ${v.calls.stable} calls` : ''} (p=${fmt(c.pValue ?? null, 4)}, margin ${c.threshold}) ${c.outcome}`;
      case 'latencyP95':
        return `p95 latency canary ${fmt(c.canary, 1)} ms vs stable ${fmt(c.stable, 1)} ms (ratio ${fmt(c.value, 2)}, max ${c.threshold}) ${c.outcome}`;
      case 'confidence':
        return `mean confidence canary ${fmt(c.canary)} vs stable ${fmt(c.stable)} (drop ${fmt(c.value)}, max ${c.threshold}) ${c.outcome}`;
      case 'labelShift':
        return `label JS distance ${fmt(c.value)} (max ${c.threshold}, G-test p=${fmt(c.pValue ?? null, 4)}) ${c.outcome}`;
    }
  });
  return `${v.canaryResults} canary / ${v.stableResults} stable results over ${v.minutes.toFixed(1)} min: ${parts.join('; ')}`;
}
