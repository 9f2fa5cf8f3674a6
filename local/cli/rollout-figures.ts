import type { CheckFigures } from '#shared/deployment/core/canary-decision';
import type { VersionRecord } from '#shared/deployment/core/records';

const num = (x: number | null | undefined, digits = 3) => (x === null || x === undefined ? '-' : Number(x.toFixed(digits)).toString());

function checkLine(c: CheckFigures): string {
  const mark = c.outcome === 'pass' ? 'ok  ' : c.outcome === 'fail' ? 'FAIL' : '..  ';
  switch (c.metric) {
    case 'errorRate':
      return `${mark} error rate     canary ${num(c.canary)}  stable ${num(c.stable)}  (p=${num(c.pValue, 4)}, margin ${c.threshold})`;
    case 'latencyP95':
      return `${mark} p95 latency    canary ${num(c.canary, 1)} ms  stable ${num(c.stable, 1)} ms  (ratio ${num(c.value, 2)}, max ${c.threshold})`;
    case 'confidence':
      return `${mark} confidence     canary ${num(c.canary)}  stable ${num(c.stable)}  (drop ${num(c.value)}, max ${c.threshold})`;
    case 'labelShift':
      return `${mark} label shift    JS distance ${num(c.value)}  (max ${c.threshold}, G-test p=${num(c.pValue, 4)})`;
  }
}

/** The rollout lines under a version in `dropship status`: live figures while CANARY_ANALYSIS, the decision after. */
export function rolloutLines(v: Pick<VersionRecord, 'state' | 'rollout'>): string[] {
  const r = v.rollout;
  if (!r) return [];
  const out: string[] = [];
  if (r.golden) out.push(r.golden.reason);
  else if (r.phase === 'golden') out.push('golden gate: running');
  if (r.decision) {
    out.push(`decision: ${r.decision.outcome} (${r.decision.stage}${r.decision.failed ? `, failed: ${r.decision.failed}` : ''}) at ${r.decision.at}`);
  } else if (r.live) {
    out.push(`analysis: ${r.live.canaryResults} canary / ${r.live.stableResults} stable results${r.live.waitingFor ? `; waiting: ${r.live.waitingFor}` : ''} (as of ${r.live.at})`);
  } else if (r.phase === 'analysis') {
    out.push(`analysis: started ${r.analysisStartedAt ?? r.startedAt}, no results yet`);
  }
  const checks = r.decision?.analysis?.checks ?? r.live?.checks;
  if (checks) for (const c of Object.values(checks)) if (c) out.push(checkLine(c));
  return out;
}
