import type { CloudEvent } from '@google-cloud/functions-framework';
import type { DeploymentContext } from '#shared/deployment/context';
import { reconcile, type ReconcileOptions } from '#shared/deployment/reconcile';

export interface ReconcilerRuntime {
  ctx: DeploymentContext;
  opts: ReconcileOptions;
}

/**
 * A scheduler tick (any message on reconcile-ticks). Errors on one version are recorded and
 * retried by the next tick, so the tick itself is always acknowledged.
 */
export async function reconcilerTick(event: CloudEvent<unknown>, { ctx, opts }: ReconcilerRuntime): Promise<void> {
  const log = ctx.log;
  const summary = await reconcile(ctx, opts);
  // An idle tick every minute (every few seconds locally) is not news.
  const idle = summary.checked === 0 && summary.errors.length === 0;
  (idle ? log.debug : log.info)('reconciler tick', { eventId: event.id, ...summary });
}
