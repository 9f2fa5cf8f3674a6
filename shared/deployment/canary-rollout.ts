import type { ArmSample, CheckName, CheckFigures } from './core/canary-decision';
import { describeVerdict, judgeCanary } from './core/canary-decision';
import type { DeploySpec } from './core/deploy-spec';
import { goldenFromTree, judgeGolden, parseGoldenJsonl, scoreGolden, type GoldenItem, type GoldenVerdict } from './core/golden-set';
import type { RolloutDecision, RolloutState, VersionRecord } from './core/records';
import { isTransient } from '#shared/retry/retry-policy';
import { defaultGoldenCalls, type RolloutPolicy } from './core/rollout-policy';
import { isServing } from './core/state-machine';
import { nonZero, promoteSplit, scaleTo } from './core/traffic';
import { retrying, type DeploymentContext } from './context';
import { recordChange } from './record-change';
import { retireIdleVersions } from './retire-versions';
import { readTraffic, syncTraffic } from './traffic-sync';
import type { ResultSample, ServingCounts } from './ports';

/** images per golden predict call, and their bytes at most (inside the 1.5 MB request limit with base64) */
const GOLDEN_BATCH = 32;
const GOLDEN_BATCH_BYTES = 1_000_000;
/** results read per arm per tick at most */
const MAX_RESULTS_PER_ARM = 20_000;

export function rolloutPolicyOf(rec: VersionRecord): RolloutPolicy | undefined {
  return (rec.spec as Partial<DeploySpec> | undefined)?.rollout;
}

/**
 * A canary just became DEPLOYED: with a rollout policy and a stable version beside it, it
 * enters CANARY_ANALYSIS (golden gate first). Without a stable version there is nothing to
 * compare with, and it stays DEPLOYED.
 */
export async function beginRollout(ctx: DeploymentContext, rec: VersionRecord, holder: string): Promise<VersionRecord> {
  const policy = rolloutPolicyOf(rec);
  if (!policy || rec.state !== 'DEPLOYED' || rec.deployPurpose === 'rollback' || rec.rollout) return rec;
  const view = await readTraffic(ctx, rec.model, rec.endpoint!);
  const stable = Object.fromEntries(
    view.versions
      .filter((v) => v.version !== rec.version && isServing(v.state) && v.deployedModelId && (view.endpoint.trafficSplit[v.deployedModelId] ?? 0) > 0)
      .map((v) => [v.version, v.deployedModelId!]),
  );
  if (Object.keys(stable).length === 0 || !(view.endpoint.trafficSplit[rec.deployedModelId!] ?? 0)) {
    ctx.log.warn('rollout policy not applied: no stable version serves beside this one', { model: rec.model, version: rec.version });
    return rec;
  }
  const rollout: RolloutState = { phase: 'golden', startedAt: ctx.clock.now().toISOString(), stable };
  return recordChange(ctx, rec, holder, { to: 'CANARY_ANALYSIS', reason: `rollout: judging the canary against ${Object.keys(stable).join(', ')}`, patch: { rollout } });
}

/**
 * One reconciler tick on a CANARY_ANALYSIS version, under its lease: the golden gate, then the
 * live analysis, then the decision. The decision is written first (phase `decided`), then
 * acted on, then the transition: a tick that dies halfway leaves the next one to finish the
 * same decision, and the lease plus the state check make it happen once.
 */
export async function stepRollout(ctx: DeploymentContext, rec: VersionRecord, holder: string): Promise<VersionRecord> {
  const policy = rolloutPolicyOf(rec);
  const rollout = rec.rollout;
  if (!policy || !rollout || !rec.endpoint || !rec.deployedModelId) return rec;
  // decided: finish a promotion or rollback a previous tick recorded but did not complete (hold: nothing)
  if (rollout.phase === 'decided') return rollout.decision ? act(ctx, rec, holder, rollout.decision) : rec;
  const view = await readTraffic(ctx, rec.model, rec.endpoint);
  const share = view.endpoint.trafficSplit[rec.deployedModelId] ?? 0;
  // A person moved traffic meanwhile (dropship promote / rollback): their call stands.
  if (share === 100) return recordChange(ctx, rec, holder, { to: 'DEPLOYED', reason: 'promoted outside the rollout analysis (it has 100% of traffic)' });
  if (share === 0) return rec; // retired as UNDEPLOYED / SUPERSEDED by whoever took its traffic

  if (rollout.phase === 'golden') {
    const verdict = await goldenGate(ctx, rec, policy, share);
    if (verdict === undefined) {
      return recordChange(ctx, rec, holder, { patch: { rollout: { ...rollout, phase: 'analysis', analysisStartedAt: ctx.clock.now().toISOString() } } });
    }
    const golden = {
      images: verdict.images,
      canaryAccuracy: verdict.canary.accuracy,
      stableAccuracy: verdict.stable.answered ? verdict.stable.accuracy : null,
      calls: verdict.calls,
      pass: verdict.pass,
      reason: verdict.reason,
    };
    ctx.log.notice(verdict.reason, { model: rec.model, version: rec.version, golden });
    if (verdict.pass) {
      return recordChange(ctx, rec, holder, { patch: { rollout: { ...rollout, golden, phase: 'analysis', analysisStartedAt: ctx.clock.now().toISOString() } } });
    }
    const { pass: _p, reason: _r, ...figures } = golden;
    return decide(
      ctx,
      rec,
      holder,
      policy,
      { ...rollout, golden },
      {
        outcome: policy.onFail === 'rollback' ? 'rollback' : 'hold-failed',
        stage: 'golden',
        failed: 'goldenAccuracy',
        summary: verdict.reason,
        at: ctx.clock.now().toISOString(),
        golden: figures,
      },
    );
  }

  if (rollout.phase === 'analysis') {
    if (!ctx.results) return rec;
    const since = new Date(rollout.analysisStartedAt ?? rollout.startedAt);
    const [canary, ...stables] = await Promise.all([rec.deployedModelId, ...Object.values(rollout.stable)].map((id) => ctx.results!.resultsOf(id, since, MAX_RESULTS_PER_ARM)));
    const now = ctx.clock.now();
    const minutes = (now.getTime() - since.getTime()) / 60_000;
    const serving = await servingCounts(ctx, rec, since, now);
    const stableIds = Object.values(rollout.stable);
    const verdict = judgeCanary(policy.analysis, armSample(canary!, serving, [rec.deployedModelId]), armSample(stables.flat(), serving, stableIds), minutes);
    const checks = Object.fromEntries(verdict.checks.map((c) => [c.metric, c])) as Partial<Record<CheckName, CheckFigures>>;
    const summary = describeVerdict(verdict);
    const live = {
      at: ctx.clock.now().toISOString(),
      verdict: verdict.verdict,
      ...(verdict.waitingFor ? { waitingFor: verdict.waitingFor } : {}),
      summary,
      canaryResults: verdict.canaryResults,
      stableResults: verdict.stableResults,
      checks,
    };
    if (verdict.verdict === 'wait' && verdict.timedOut) {
      const limit = policy.analysis.maxMinutes;
      return decide(
        ctx,
        rec,
        holder,
        policy,
        { ...rollout, live },
        {
          outcome: policy.analysis.onTimeout === 'rollback' ? 'rollback' : 'hold-failed',
          stage: 'analysis',
          failed: 'maxMinutes',
          summary: `canary analysis timed out after ${minutes.toFixed(1)} min (maxMinutes ${limit}), still waiting for: ${verdict.waitingFor}: ${summary}`,
          at: now.toISOString(),
          analysis: { canaryResults: verdict.canaryResults, stableResults: verdict.stableResults, minutes: verdict.minutes, checks },
        },
      );
    }
    if (verdict.verdict === 'wait') return recordChange(ctx, rec, holder, { patch: { rollout: { ...rollout, live } } });
    const pass = verdict.verdict === 'pass';
    return decide(
      ctx,
      rec,
      holder,
      policy,
      { ...rollout, live },
      {
        outcome: pass ? (policy.onPass === 'promote' ? 'promote' : 'hold-passed') : policy.onFail === 'rollback' ? 'rollback' : 'hold-failed',
        stage: 'analysis',
        failed: verdict.failed.join(','),
        summary: `${pass ? 'canary analysis passed' : `canary analysis failed on ${verdict.failed.join(', ')}`}: ${summary}`,
        at: ctx.clock.now().toISOString(),
        analysis: { canaryResults: verdict.canaryResults, stableResults: verdict.stableResults, minutes: verdict.minutes, checks },
      },
    );
  }

  return rec;
}

async function decide(ctx: DeploymentContext, rec: VersionRecord, holder: string, _policy: RolloutPolicy, rollout: RolloutState, decision: RolloutDecision): Promise<VersionRecord> {
  ctx.log.notice(`rollout decision: ${decision.outcome}`, { model: rec.model, version: rec.version, stage: decision.stage, failed: decision.failed, summary: decision.summary });
  const decided = await recordChange(ctx, rec, holder, { patch: { rollout: { ...rollout, phase: 'decided', decision } } });
  return act(ctx, decided, holder, decision);
}

/** Carries out a recorded decision; safe to run again (traffic changes are absolute, the transition is checked). */
async function act(ctx: DeploymentContext, rec: VersionRecord, holder: string, decision: RolloutDecision): Promise<VersionRecord> {
  if (rec.state !== 'CANARY_ANALYSIS') return rec;
  const endpoint = rec.endpoint!;
  if (decision.outcome === 'promote') {
    const before = (await ctx.store.getModel(rec.model))?.traffic;
    const info = await retrying(ctx, 'vertex.getEndpoint', () => ctx.vertex.getEndpoint(endpoint));
    await retrying(ctx, 'vertex.updateEndpoint', () => ctx.vertex.setTraffic(endpoint, promoteSplit(info.trafficSplit, rec.deployedModelId!)));
    await syncTraffic(ctx, rec.model, endpoint, before);
    const next = await recordChange(ctx, rec, holder, { to: 'DEPLOYED', reason: decision.summary, patch: { trafficPercent: 100 } });
    await retireIdleVersions(ctx, rec.model, endpoint, 'SUPERSEDED');
    return next;
  }
  if (decision.outcome === 'rollback') {
    const before = (await ctx.store.getModel(rec.model))?.traffic;
    const info = await retrying(ctx, 'vertex.getEndpoint', () => ctx.vertex.getEndpoint(endpoint));
    const others = nonZero(Object.fromEntries(Object.entries(info.trafficSplit).filter(([id]) => id !== rec.deployedModelId)));
    if (Object.keys(others).length === 0) {
      ctx.log.error('rollout: nothing to roll back to (no other deployed model has traffic); holding', { model: rec.model, version: rec.version });
      return rec;
    }
    await retrying(ctx, 'vertex.updateEndpoint', () => ctx.vertex.setTraffic(endpoint, { ...scaleTo(others, 100), [rec.deployedModelId!]: 0 }));
    await syncTraffic(ctx, rec.model, endpoint, before);
    const rolled = await recordChange(ctx, rec, holder, { to: 'ROLLED_BACK', reason: decision.summary, patch: { trafficPercent: 0 } });
    // Off the endpoint: it takes no traffic and costs a replica. The reconciler follows the operation.
    const name = await retrying(ctx, 'vertex.undeployModel', () => ctx.vertex.startUndeploy(endpoint, rec.deployedModelId!));
    return recordChange(ctx, rolled, holder, { patch: { operation: { kind: 'undeploy', name, startedAt: ctx.clock.now().toISOString() } } });
  }
  return rec; // hold: decided, left to a person
}

/**
 * Vertex AI's per-deployed-model call counts over the window, or undefined without a metrics
 * port or when they cannot be read (the error-rate check then counts ERROR results, and says so).
 */
async function servingCounts(ctx: DeploymentContext, rec: VersionRecord, since: Date, until: Date): Promise<Record<string, ServingCounts> | undefined> {
  if (!ctx.metrics) return undefined;
  try {
    // not wrapped in retrying(): the Monitoring client retries ListTimeSeries itself (UNAVAILABLE, DEADLINE_EXCEEDED)
    return await ctx.metrics.countsOf(rec.endpoint!, since, until);
  } catch (err) {
    ctx.log.error('rollout: Vertex AI serving metrics unreadable; the error-rate check counts ERROR results this tick', { model: rec.model, version: rec.version, err });
    return undefined;
  }
}

function armSample(samples: readonly ResultSample[], serving: Record<string, ServingCounts> | undefined, deployedModelIds: readonly string[]): ArmSample {
  const arm: ArmSample = { results: samples.length, errors: 0, latenciesMs: [], confidences: [], labels: {} };
  if (serving) {
    arm.serving = { requests: 0, errors: 0 };
    for (const id of deployedModelIds) {
      arm.serving.requests += serving[id]?.requests ?? 0;
      arm.serving.errors += serving[id]?.errors ?? 0;
    }
  }
  for (const s of samples) {
    if (s.status === 'ERROR') {
      arm.errors++;
      continue;
    }
    if (s.latencyMs !== null) arm.latenciesMs.push(s.latencyMs);
    if (s.confidence !== null) arm.confidences.push(s.confidence);
    if (s.label !== null) arm.labels[s.label] = (arm.labels[s.label] ?? 0) + 1;
  }
  return arm;
}

/** gs://bucket/<model>/<version>/ of the version as uploaded (artifactUri may be its .tf-serving/ copy). */
function versionFolder(rec: VersionRecord): { bucket: string; prefix: string; uri: string } {
  const m = /^gs:\/\/([^/]+)\/(.*)$/.exec(rec.artifactUri)!;
  const prefix = `${rec.model}/${rec.version}/`;
  return { bucket: m[1]!, prefix, uri: `gs://${m[1]}/${prefix}` };
}

async function goldenItems(ctx: DeploymentContext, rec: VersionRecord, policy: RolloutPolicy): Promise<{ items: GoldenItem[] } | { error: string } | undefined> {
  const folder = versionFolder(rec);
  const listing = (await ctx.artifacts.listFolder(folder.bucket, folder.prefix)).map((o) => o.path);
  const chosen = policy.golden ?? (listing.includes('golden.jsonl') ? 'golden.jsonl' : listing.some((p) => p.startsWith('_golden/')) ? '_golden/' : undefined);
  if (chosen === undefined) return undefined;
  if (chosen.endsWith('.jsonl')) {
    const bytes = await ctx.artifacts.read(folder.bucket, `${folder.prefix}${chosen}`);
    if (!bytes) return { error: `golden gate: ${chosen} is not in the version folder` };
    const parsed = parseGoldenJsonl(bytes.toString('utf8'), folder.uri);
    return parsed.ok ? { items: parsed.items } : { error: `golden gate: ${parsed.reason}` };
  }
  const dir = chosen.endsWith('/') ? chosen : `${chosen}/`;
  const items = goldenFromTree(
    listing.filter((p) => p.startsWith(dir)).map((p) => p.slice(dir.length)),
    `${folder.uri}${dir}`,
  );
  return items.length ? { items } : { error: `golden gate: ${dir} holds no <label>/<file> images` };
}

/**
 * Sends the golden images through the endpoint until the canary has answered each one, within
 * a bounded number of calls (a Predict call cannot pick a deployed model: the split does, and
 * the answer names who answered). Stable's answers seen on the way are kept for comparison.
 * Undefined when the version has no golden set.
 */
async function goldenGate(ctx: DeploymentContext, rec: VersionRecord, policy: RolloutPolicy, share: number): Promise<GoldenVerdict | undefined> {
  const found = await goldenItems(ctx, rec, policy);
  if (found === undefined) return undefined;
  const failed = (reason: string): GoldenVerdict => ({ pass: false, images: 0, canary: { answered: 0, correct: 0, accuracy: 0 }, stable: { answered: 0, correct: 0, accuracy: 0 }, calls: 0, reason });
  if ('error' in found) return failed(found.error);
  if (!ctx.predictor) return failed('golden gate: this deployment has no predict client');
  const items = found.items;
  const bytes = new Map<string, Buffer>();
  for (const item of items) {
    const m = /^gs:\/\/([^/]+)\/(.+)$/.exec(item.uri)!;
    const b = await ctx.artifacts.read(m[1]!, m[2]!);
    if (!b) return failed(`golden gate: ${item.uri} does not exist`);
    bytes.set(item.uri, b);
  }
  const stableIds = new Set(Object.values(rec.rollout!.stable));
  const canaryAnswers = new Map<string, string>();
  const stableAnswers = new Map<string, string>();
  const batches = Math.ceil(items.length / GOLDEN_BATCH);
  const maxCalls = policy.goldenMaxCalls ?? defaultGoldenCalls(share) * batches;
  let calls = 0;
  for (;;) {
    const pending = items.filter((i) => !canaryAnswers.has(i.uri));
    if (pending.length === 0 || calls >= maxCalls) break;
    const batch: GoldenItem[] = [];
    let size = 0;
    for (const i of pending) {
      const n = bytes.get(i.uri)!.length;
      if (batch.length >= GOLDEN_BATCH || (batch.length > 0 && size + n > GOLDEN_BATCH_BYTES)) break;
      batch.push(i);
      size += n;
    }
    calls++;
    let answer: { labels: string[]; deployedModelId: string };
    try {
      answer = await ctx.predictor.predict(
        rec.endpoint!,
        batch.map((i) => bytes.get(i.uri)!),
      );
    } catch (err) {
      if (isTransient(err)) continue; // a refused call counts as one of the attempts
      throw err;
    }
    const into = answer.deployedModelId === rec.deployedModelId ? canaryAnswers : stableIds.has(answer.deployedModelId) ? stableAnswers : undefined;
    batch.forEach((item, k) => {
      if (into && !into.has(item.uri) && answer.labels[k] !== undefined) into.set(item.uri, answer.labels[k]!);
    });
  }
  return judgeGolden(policy, items, scoreGolden(items, canaryAnswers), scoreGolden(items, stableAnswers), calls);
}
