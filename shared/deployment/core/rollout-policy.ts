import { z } from 'zod';

/**
 * deploy.json `rollout`: how a canary is judged and what happens after. Every field has a
 * default, so `"rollout": {}` turns the checks on with the defaults below (docs/deployment.md
 * "Safe rollouts" explains each one and the test behind it).
 */
export const analysisPolicySchema = z
  .strictObject({
    /** results each arm (canary and stable) needs before anything is decided */
    minResults: z.number().int().min(1).default(300),
    /** minutes since the analysis began before anything is decided */
    minMinutes: z.number().min(0).default(10),
    /**
     * minutes after which an analysis still short of its minimum sample stops waiting and
     * decides `onTimeout` (a canary on an endpoint without traffic is not left in analysis forever)
     */
    maxMinutes: z.number().gt(0).default(1440),
    /** what a timed-out analysis does: rollback (not proven, so not kept) or hold (decided, for a person) */
    onTimeout: z.enum(['rollback', 'hold']).default('rollback'),
    /**
     * Predict calls each arm needs (Vertex AI's count) before the error-rate test decides. Against
     * a stable version failing none, at the default margin and alpha, a canary failing 20% of its
     * calls is caught with probability 0.74 at 30 calls, 0.95 at 50, 0.9999 at 100; one failing
     * 10% with 0.88 at 100, 5% with 0.23 (docs/deployment.md)
     */
    minCalls: z.number().int().min(10).default(100),
    /** the canary's error rate may exceed stable's by this much (absolute, 0..1) before the test may reject */
    maxErrorRateIncrease: z.number().min(0).max(1).default(0.02),
    /** canary p95 predict latency / stable p95, at most */
    maxLatencyP95Ratio: z.number().min(1).default(1.5),
    /** stable's mean confidence minus the canary's, at most */
    maxConfidenceDrop: z.number().min(0).max(1).default(0.1),
    /** Jensen-Shannon distance (base 2, 0..1) between the arms' label distributions, at most */
    maxLabelShift: z.number().min(0).max(1).default(0.2),
    /** significance level of the error-rate and label-shift tests */
    alpha: z.number().gt(0).lt(0.5).default(0.05),
  })
  .refine((a) => a.maxMinutes > a.minMinutes, { message: 'maxMinutes must be more than minMinutes', path: ['maxMinutes'] });

export const rolloutPolicySchema = z.strictObject({
  /**
   * the golden set, relative to the version folder: a `.jsonl` file of {"uri", "label"} lines or
   * a folder `<dir>/<label>/<file>`. Unset: `golden.jsonl` if the folder has one, else `_golden/`
   * if it has one, else no golden gate.
   */
  golden: z
    .string()
    .min(1)
    .regex(/^(?!\/)(?!.*\.\.)/, 'golden is a path inside the version folder')
    .optional(),
  /** the canary's accuracy on the golden set, at least */
  minGoldenAccuracy: z.number().min(0).max(1).default(0.9),
  /** the canary's golden accuracy may trail stable's by this much, at most */
  maxGoldenAccuracyDrop: z.number().min(0).max(1).default(0.05),
  /** predict calls the gate may send to get every golden image answered by the canary; unset: enough that a canary at its share is missed with probability < 1e-4 */
  goldenMaxCalls: z.number().int().min(1).max(10_000).optional(),
  analysis: analysisPolicySchema.default(analysisPolicySchema.parse({})),
  /** when every check passes: promote (100% to the canary) or hold (stay in analysis, decided, for a person) */
  onPass: z.enum(['promote', 'hold']).default('promote'),
  /** when a check fails: rollback (traffic back to stable, the canary undeployed) or hold */
  onFail: z.enum(['rollback', 'hold']).default('rollback'),
});

export type AnalysisPolicy = z.output<typeof analysisPolicySchema>;
export type RolloutPolicy = z.output<typeof rolloutPolicySchema>;

/**
 * Predict calls that reach a canary holding `percent`% at least once with probability 1 - 1e-4:
 * the smallest k with (1 - p)^k < 1e-4.
 */
export function defaultGoldenCalls(percent: number): number {
  const p = Math.min(Math.max(percent, 1), 99) / 100;
  return Math.ceil(Math.log(1e-4) / Math.log(1 - p));
}
