import { randomUUID } from 'node:crypto';
import { PermanentError } from '#shared/errors';
import { promoteSplit } from './core/traffic';
import { isServing } from './core/state-machine';
import { retrying, type DeploymentContext } from './context';
import { retireIdleVersions } from './retire-versions';
import { syncTraffic } from './traffic-sync';
import { waitForVersions } from './wait-for-versions';

export interface TrafficChangeResult {
  /** version -> percent after the change */
  traffic: Record<string, number>;
  /** versions being undeployed (SUPERSEDED / UNDEPLOYED once done) */
  retiring: string[];
  /** a version being deployed again (rollback), DEPLOYED once done */
  redeploying?: string;
}

/**
 * Gives a deployed version (typically a canary) all the traffic and undeploys the others.
 * `waitMs` bounds how long to follow the undeploys here; the reconciler finishes the rest.
 */
export async function promote(ctx: DeploymentContext, model: string, version: string, opts: { waitMs?: number } = {}): Promise<TrafficChangeResult> {
  const rec = await ctx.store.get(model, version);
  if (!rec) throw new PermanentError(`${model}/${version} does not exist`, 'NOT_FOUND');
  // a canary under analysis may be promoted by hand: the next reconciler tick sees its 100% and ends the analysis
  if (!isServing(rec.state) || !rec.deployedModelId || !rec.endpoint) {
    throw new PermanentError(`${model}/${version} is ${rec.state}; only a DEPLOYED version can be promoted`, 'FAILED_PRECONDITION');
  }
  const before = (await ctx.store.getModel(model))?.traffic;
  const endpoint = await retrying(ctx, 'vertex.getEndpoint', () => ctx.vertex.getEndpoint(rec.endpoint!));
  await retrying(ctx, 'vertex.updateEndpoint', () => ctx.vertex.setTraffic(rec.endpoint!, promoteSplit(endpoint.trafficSplit, rec.deployedModelId!)));
  const view = await syncTraffic(ctx, model, rec.endpoint, before);
  ctx.log.notice('promoted', { model, version, traffic: view.byVersion, before });
  const retiring = await retireIdleVersions(ctx, model, rec.endpoint, 'SUPERSEDED');
  if (opts.waitMs) await waitForVersions(ctx, model, retiring, opts.waitMs, `promote:${randomUUID()}`);
  return { traffic: view.byVersion, retiring };
}
