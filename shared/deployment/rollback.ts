import { randomUUID } from 'node:crypto';
import { PermanentError } from '#shared/errors';
import { NEW_DEPLOYMENT, nonZero, rollbackPlan } from './core/traffic';
import { retrying, type DeploymentContext } from './context';
import { startDeploy } from './advance-version';
import { isServing } from './core/state-machine';
import type { TrafficChangeResult } from './promote';
import { retireIdleVersions } from './retire-versions';
import { readTraffic, syncTraffic } from './traffic-sync';
import { waitForVersions } from './wait-for-versions';

/**
 * Moves traffic back: to `version` alone when named, else to the split recorded before the
 * last traffic change. A version that was already undeployed is deployed again (from the
 * Vertex model version it was registered as) with its old share; versions left without
 * traffic are undeployed (UNDEPLOYED).
 */
export async function rollback(ctx: DeploymentContext, model: string, version?: string, opts: { waitMs?: number } = {}): Promise<TrafficChangeResult> {
  const modelRec = await ctx.store.getModel(model);
  if (!modelRec?.endpoint) throw new PermanentError(`${model} has no endpoint: nothing to roll back`, 'FAILED_PRECONDITION');
  const target = version ? { [version]: 100 } : nonZero(modelRec.previousTraffic ?? {});
  if (Object.keys(target).length === 0) throw new PermanentError(`${model} has no earlier traffic split recorded: name the version to roll back to`, 'FAILED_PRECONDITION');
  const view = await readTraffic(ctx, model, modelRec.endpoint);
  const onEndpoint = new Set(view.endpoint.deployedModels.map((d) => d.id));
  const deployedIdByVersion = Object.fromEntries(view.versions.filter((v) => isServing(v.state) && v.deployedModelId && onEndpoint.has(v.deployedModelId)).map((v) => [v.version, v.deployedModelId!]));
  const plan = rollbackPlan(target, deployedIdByVersion);
  const before = view.byVersion;
  const waitHolder = `rollback:${randomUUID()}`;

  if (plan.missing.length === 0) {
    await retrying(ctx, 'vertex.updateEndpoint', () => ctx.vertex.setTraffic(modelRec.endpoint!, plan.split));
    const after = await syncTraffic(ctx, model, modelRec.endpoint, before);
    ctx.log.notice('rolled back', { model, traffic: after.byVersion, before });
    const retiring = await retireIdleVersions(ctx, model, modelRec.endpoint, 'UNDEPLOYED');
    if (opts.waitMs) await waitForVersions(ctx, model, retiring, opts.waitMs, waitHolder);
    return { traffic: after.byVersion, retiring };
  }
  if (plan.missing.length > 1) {
    throw new PermanentError(`rolling back would deploy ${plan.missing.map((m) => m.version).join(', ')} again; roll back to one version at a time`, 'FAILED_PRECONDITION');
  }
  const missing = plan.missing[0]!;
  const rec = await ctx.store.get(model, missing.version);
  if (!rec?.vertexModelVersionId || !['SUPERSEDED', 'UNDEPLOYED', 'ROLLED_BACK'].includes(rec.state)) {
    throw new PermanentError(`${model}/${missing.version} is ${rec?.state ?? 'unknown'}: only a version that was deployed before can be rolled back to`, 'FAILED_PRECONDITION');
  }
  const holder = `rollback:${randomUUID()}`;
  const leased = await ctx.store.acquireLease(model, missing.version, holder, ctx.leaseMs, ctx.clock.now());
  if (!leased) throw new PermanentError(`${model}/${missing.version} is busy; try again shortly`, 'ABORTED');
  try {
    await startDeploy(ctx, { ...leased, deployTrafficSplit: undefined }, holder, 'rollback', { ...plan.split, [NEW_DEPLOYMENT]: missing.percent });
  } finally {
    await ctx.store.releaseLease(model, missing.version, holder).catch(() => undefined);
  }
  ctx.log.notice('rolling back: deploying an earlier version again', { model, version: missing.version, target });
  if (opts.waitMs) await waitForVersions(ctx, model, [missing.version], opts.waitMs, waitHolder);
  const after = await readTraffic(ctx, model, modelRec.endpoint);
  return { traffic: after.byVersion, retiring: [], redeploying: missing.version };
}
