import chisquareCdf from '@stdlib/stats-base-dists-chisquare-cdf';
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';

/**
 * The statistics behind the canary checks, on plain numbers (docs/deployment.md "Safe
 * rollouts" states each test; test/unit/deployment/canary-stats.test.ts holds them to values
 * computed by hand).
 */

export interface ErrorRateTest {
  canaryRate: number;
  stableRate: number;
  /** one-sided z of (canary - stable - margin) on the Agresti-Caffo adjusted rates */
  z: number;
  /** P(Z >= z): small means the canary's error rate exceeds stable's by more than the margin */
  pValue: number;
}

/**
 * H0: p_canary - p_stable <= margin, against the one-sided alternative. Agresti and Caffo
 * (2000): add one error and one success to each arm before the Wald test, which keeps the test
 * defined (and close to its level) when an arm has no errors at all, the usual case for stable.
 */
export function errorRateTest(canary: { errors: number; n: number }, stable: { errors: number; n: number }, margin: number): ErrorRateTest {
  const adj = (a: { errors: number; n: number }) => (a.errors + 1) / (a.n + 2);
  const pc = adj(canary);
  const ps = adj(stable);
  const se = Math.sqrt((pc * (1 - pc)) / (canary.n + 2) + (ps * (1 - ps)) / (stable.n + 2));
  const z = (pc - ps - margin) / se;
  return {
    canaryRate: canary.n ? canary.errors / canary.n : 0,
    stableRate: stable.n ? stable.errors / stable.n : 0,
    z,
    pValue: 1 - normalCdf(z, 0, 1),
  };
}

/** The nearest-rank percentile (q in 0..1): the smallest value with at least q of the sample at or below it. */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) throw new RangeError('percentile of an empty sample');
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
}

export function mean(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('mean of an empty sample');
  return values.reduce((s, v) => s + v, 0) / values.length;
}

/** Both arms' counts over the union of their labels, in one order. */
function aligned(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): Array<[number, number]> {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.map((k) => [a[k] ?? 0, b[k] ?? 0]);
}

/**
 * Jensen-Shannon distance between two label distributions given as counts: the square root of
 * the JS divergence in bits, so 0 (same) .. 1 (disjoint), a metric.
 */
export function jensenShannonDistance(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): number {
  const pairs = aligned(a, b);
  const na = pairs.reduce((s, [x]) => s + x, 0);
  const nb = pairs.reduce((s, [, y]) => s + y, 0);
  if (na === 0 || nb === 0) throw new RangeError('label distribution of an empty sample');
  let jsd = 0;
  for (const [x, y] of pairs) {
    const p = x / na;
    const q = y / nb;
    const m = (p + q) / 2;
    if (p > 0) jsd += 0.5 * p * Math.log2(p / m);
    if (q > 0) jsd += 0.5 * q * Math.log2(q / m);
  }
  return Math.sqrt(Math.max(0, jsd));
}

export interface GTest {
  g: number;
  df: number;
  /** P(chi2(df) >= G): small means the two label distributions differ */
  pValue: number;
}

/**
 * G-test of homogeneity on the 2 x k table of label counts (k = labels either arm produced):
 * G = 2 sum O ln(O / E), chi-square with k - 1 degrees of freedom under H0 (same distribution).
 * It is the sample-size-aware companion of the JS distance: G = 2 N JSD_w (nats), with the arms
 * weighted by their sizes.
 */
export function gTest(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): GTest {
  const pairs = aligned(a, b).filter(([x, y]) => x + y > 0);
  const na = pairs.reduce((s, [x]) => s + x, 0);
  const nb = pairs.reduce((s, [, y]) => s + y, 0);
  const n = na + nb;
  let g = 0;
  for (const [x, y] of pairs) {
    const col = x + y;
    if (x > 0) g += x * Math.log(x / ((na * col) / n));
    if (y > 0) g += y * Math.log(y / ((nb * col) / n));
  }
  g *= 2;
  const df = pairs.length - 1;
  return { g, df, pValue: df > 0 ? 1 - chisquareCdf(g, df) : 1 };
}
