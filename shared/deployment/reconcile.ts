import { randomUUID } from 'node:crypto';
import { errorMessage } from '#shared/errors';
import { LOG_EVENTS } from '#shared/logging/log-events';
import type { VersionRecord } from './core/records';
import { isTransient } from '#shared/retry/retry-policy';
import { isInProgress } from './core/state-machine';
import type { DeploymentContext } from './context';
import { advanceVersion } from './advance-version';
import { stepRollout } from './canary-rollout';
import { fail } from './record-change';
import { LeaseLostError } from './ports';

export interface ReconcileOptions {
  /** an in-progress version whose last transition is older than this ends FAILED */
  stuckAfterMs: number;
}

export interface ReconcileSummary {
  checked: number;
  busy: number;
  changed: Array<{ model: string; version: string; from: string; to: string }>;
  errors: Array<{ model: string; version: string; error: string }>;
}

/**
 * One reconciler tick: follow every pending operation by name and advance its version.
 * Each version is leased in a Firestore transaction first, so ticks that overlap (or a
 * model-drop still working) never act on the same version twice.
 */
export async function reconcile(ctx: DeploymentContext, opts: ReconcileOptions): Promise<ReconcileSummary> {
  const summary: ReconcileSummary = { checked: 0, busy: 0, changed: [], errors: [] };
  const active = await ctx.store.listActive();
  for (const candidate of active) {
    summary.checked++;
    const holder = `reconciler:${randomUUID()}`;
    const rec = await ctx.store.acquireLease(candidate.model, candidate.version, holder, ctx.leaseMs, ctx.clock.now());
    if (!rec) {
      summary.busy++;
      continue;
    }
    try {
      const next = await step(ctx, rec, holder, opts);
      if (next.state !== rec.state) summary.changed.push({ model: rec.model, version: rec.version, from: rec.state, to: next.state });
    } catch (err) {
      if (err instanceof LeaseLostError) continue;
      summary.errors.push({ model: rec.model, version: rec.version, error: errorMessage(err) });
      if (isTransient(err)) {
        ctx.log.warn('transient error; the next tick tries again', { model: rec.model, version: rec.version, err: errorMessage(err) });
      } else {
        // e.g. the operation no longer exists: a person has to look, and the state says why.
        const current = await ctx.store.get(rec.model, rec.version);
        if (current && isInProgress(current.state)) await fail(ctx, current, holder, `reconciler: ${errorMessage(err)}`);
        else ctx.log.error('reconciler error', { model: rec.model, version: rec.version, err: errorMessage(err) });
      }
    } finally {
      await ctx.store.releaseLease(rec.model, rec.version, holder).catch(() => undefined);
    }
  }
  return summary;
}

async function step(ctx: DeploymentContext, rec: VersionRecord, holder: string, opts: ReconcileOptions): Promise<VersionRecord> {
  if (isInProgress(rec.state)) {
    const since = Date.parse(rec.history[rec.history.length - 1]!.at);
    const ageMs = ctx.clock.now().getTime() - since;
    if (ageMs > opts.stuckAfterMs) {
      const failed = await fail(
        ctx,
        rec,
        holder,
        `stuck in ${rec.state} for ${Math.round(ageMs / 60_000)} min (limit ${Math.round(opts.stuckAfterMs / 60_000)} min)${rec.operation ? `; operation ${rec.operation.name} never finished` : ''}`,
      );
      // Logged once the version is FAILED, so a tick that lost its lease halfway does not count it twice.
      ctx.log.event(LOG_EVENTS.deploymentStuck, 'WARNING', `${rec.model}/${rec.version} was stuck in ${rec.state} and is now FAILED`, {
        model: rec.model,
        version: rec.version,
        state: rec.state,
        stuckSeconds: Math.round(ageMs / 1000),
        ...(rec.operation ? { operation: rec.operation.name } : {}),
      });
      return failed;
    }
  }
  // PENDING / VALIDATING and REGISTERING before its upload started belong to model-drop,
  // whose event redelivery resumes them; everything with an operation is ours.
  // a canary being judged: golden gate, live analysis, decision (canary-rollout.ts)
  if (rec.state === 'CANARY_ANALYSIS' && !rec.operation) return stepRollout(ctx, rec, holder);
  if (!rec.operation && rec.state !== 'DEPLOYING') return rec;
  return advanceVersion(ctx, rec, holder, { waitForUploadMs: 0, pollIntervalMs: 0 });
}
