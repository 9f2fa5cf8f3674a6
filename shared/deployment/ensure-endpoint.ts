import { TransientError } from '#shared/errors';
import { retrying, type DeploymentContext } from './context';

/**
 * The model's one endpoint: recorded in models/{model}, else found in Vertex AI by label or
 * deterministic id, else created. A Firestore lease on models/{model} makes creation happen
 * in one worker at a time, so two versions deploying at once never make two endpoints.
 */
export async function ensureEndpoint(ctx: DeploymentContext, model: string, holder: string): Promise<string> {
  const known = await ctx.store.getModel(model);
  if (known?.endpoint) return known.endpoint;
  const leased = await retrying(ctx, 'firestore.endpointLease', () => ctx.store.acquireEndpointLease(model, holder, ctx.leaseMs, ctx.clock.now()));
  if (!leased) throw new TransientError(`the endpoint of ${model} is being created by another worker`);
  if (leased.endpoint) return leased.endpoint;
  try {
    const found = await retrying(ctx, 'vertex.findEndpoint', () => ctx.vertex.findEndpoint(model));
    const endpoint = found ?? (await retrying(ctx, 'vertex.createEndpoint', () => ctx.vertex.createEndpoint(model)));
    ctx.log.info(found ? 'found the endpoint' : 'created the endpoint', { model, endpoint });
    return await retrying(ctx, 'firestore.recordEndpoint', () => ctx.store.recordEndpoint(model, endpoint, holder, ctx.clock.now()));
  } catch (err) {
    await ctx.store.releaseEndpointLease(model, holder).catch(() => undefined);
    throw err;
  }
}
