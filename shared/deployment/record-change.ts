import { errorMessage } from '#shared/errors';
import type { VersionRecord } from './core/records';
import { retrying, type DeploymentContext } from './context';
import type { VersionChange } from './ports';

/**
 * Writes a change to a version (under the holder's lease) and, when its state moved,
 * publishes the transition to model-events. A lost publish is logged, not retried: the
 * state in Firestore is the record; model-events is a notification.
 */
export async function recordChange(ctx: DeploymentContext, rec: VersionRecord, holder: string, change: VersionChange): Promise<VersionRecord> {
  const next = await retrying(ctx, 'firestore.change', () => ctx.store.change(rec.model, rec.version, holder, change, ctx.clock.now(), ctx.leaseMs));
  if (next.state !== rec.state) {
    const last = next.history[next.history.length - 1]!;
    const log = ctx.log.child({ model: rec.model, version: rec.version });
    (next.state === 'FAILED' ? log.error : log.info)(`version ${next.state}`, { from: rec.state, reason: change.reason });
    try {
      // no retrying(): the Pub/Sub client retries a publish itself (every transient code, up to 10 min)
      await ctx.events.publish({
        model: next.model,
        version: next.version,
        from: rec.state,
        state: next.state,
        at: last.at,
        ...(change.reason !== undefined ? { reason: change.reason } : {}),
        ...(next.vertexModel ? { vertexModel: next.vertexModel } : {}),
        ...(next.vertexModelVersionId ? { vertexModelVersionId: next.vertexModelVersionId } : {}),
        ...(next.endpoint ? { endpoint: next.endpoint } : {}),
        ...(next.deployedModelId ? { deployedModelId: next.deployedModelId } : {}),
        ...(next.trafficPercent !== undefined ? { trafficPercent: next.trafficPercent } : {}),
        // the transition a rollout decision made carries its numbers
        ...(rec.state === 'CANARY_ANALYSIS' && next.rollout?.decision ? { rollout: next.rollout.decision } : {}),
      });
    } catch (err) {
      log.error('could not publish to model-events', { err: errorMessage(err), state: next.state });
    }
  }
  return next;
}

export function fail(ctx: DeploymentContext, rec: VersionRecord, holder: string, reason: string): Promise<VersionRecord> {
  return recordChange(ctx, rec, holder, { to: 'FAILED', reason, patch: { error: reason, operation: null } });
}
