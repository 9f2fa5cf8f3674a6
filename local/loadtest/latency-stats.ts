/** Latency and outcome bookkeeping for a load test: exact percentiles over a bounded sample. */
export interface LoadTestSummary {
  requests: number;
  failures: number;
  failuresByCode: Record<string, number>;
  instancesSent: number;
  elapsedSeconds: number;
  rps: number;
  latencyMs: { avg: number; min: number; p50: number; p90: number; p95: number; p99: number; max: number };
}

export class LatencyStats {
  private readonly latencies: number[] = [];
  private readonly failureCodes = new Map<string, number>();
  private requests = 0;
  private instances = 0;

  record(latencyMs: number, instances: number, failureCode?: string): void {
    this.requests += 1;
    this.instances += instances;
    // Locust counts failed requests in the latency figures too; so do we.
    this.latencies.push(latencyMs);
    if (failureCode !== undefined) this.failureCodes.set(failureCode, (this.failureCodes.get(failureCode) ?? 0) + 1);
  }

  get count(): number {
    return this.requests;
  }

  summary(elapsedSeconds: number): LoadTestSummary {
    const sorted = Float64Array.from(this.latencies).sort();
    const failuresByCode = Object.fromEntries([...this.failureCodes.entries()].sort());
    const failures = [...this.failureCodes.values()].reduce((a, b) => a + b, 0);
    const sum = sorted.reduce((a, b) => a + b, 0);
    // rps from the elapsed time as reported, so the report agrees with itself
    const elapsed = round(elapsedSeconds, 3);
    return {
      requests: this.requests,
      failures,
      failuresByCode,
      instancesSent: this.instances,
      elapsedSeconds: elapsed,
      rps: elapsed > 0 ? round(this.requests / elapsed, 2) : 0,
      latencyMs: {
        avg: sorted.length ? round(sum / sorted.length, 1) : 0,
        min: round(sorted[0] ?? 0, 1),
        p50: round(percentile(sorted, 50), 1),
        p90: round(percentile(sorted, 90), 1),
        p95: round(percentile(sorted, 95), 1),
        p99: round(percentile(sorted, 99), 1),
        max: round(sorted[sorted.length - 1] ?? 0, 1),
      },
    };
  }
}

/** Nearest-rank percentile of an ascending array (what Locust reports). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
