import { randomUUID } from 'node:crypto';
import { retrying, type DeploymentContext } from './context';
import { recordChange } from './record-change';
import { readTraffic } from './traffic-sync';
import { isServing } from './core/state-machine';

/**
 * Starts UndeployModel for every deployed version of `model` that no longer gets traffic.
 * Each ends SUPERSEDED (a newer version replaced it) or UNDEPLOYED (a rollback moved away
 * from it) when its operation finishes, which the reconciler (or a waiting caller) follows.
 */
export async function retireIdleVersions(ctx: DeploymentContext, model: string, endpoint: string, retireAs: 'SUPERSEDED' | 'UNDEPLOYED'): Promise<string[]> {
  const view = await readTraffic(ctx, model, endpoint);
  const onEndpoint = new Set(view.endpoint.deployedModels.map((d) => d.id));
  const idle = view.versions.filter((v) => isServing(v.state) && v.deployedModelId && onEndpoint.has(v.deployedModelId) && !view.endpoint.trafficSplit[v.deployedModelId] && !v.operation);
  const retired: string[] = [];
  for (const v of idle) {
    const holder = `retire:${randomUUID()}`;
    const leased = await ctx.store.acquireLease(v.model, v.version, holder, ctx.leaseMs, ctx.clock.now());
    if (!leased || leased.operation) continue;
    try {
      const name = await retrying(ctx, 'vertex.undeployModel', () => ctx.vertex.startUndeploy(endpoint, v.deployedModelId!));
      await recordChange(ctx, leased, holder, {
        patch: { operation: { kind: 'undeploy', name, startedAt: ctx.clock.now().toISOString() }, retireAs, trafficPercent: 0 },
      });
      retired.push(v.version);
    } finally {
      await ctx.store.releaseLease(v.model, v.version, holder).catch(() => undefined);
    }
  }
  return retired;
}
