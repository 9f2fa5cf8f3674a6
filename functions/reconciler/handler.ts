import type { CloudEvent } from '@google-cloud/functions-framework';
import { parseEnv } from '#shared/config/parse-env';
import { createLogger } from '#shared/logging/logger';
import { createDeploymentContext } from '#shared/deployment/adapters/deployment-context';
import type { DeploymentContext } from '#shared/deployment/context';
import { reconcile, type ReconcileOptions } from '#shared/deployment/reconcile';
import { reconcilerConfigSchema } from './config';


let wiring: { ctx: DeploymentContext; opts: ReconcileOptions } | undefined;

function wire(): { ctx: DeploymentContext; opts: ReconcileOptions } {
  if (wiring) return wiring;
  const log = createLogger({ component: 'reconciler' });
  const env = parseEnv(reconcilerConfigSchema);
  wiring = { ctx: createDeploymentContext(env, log), opts: { stuckAfterMs: env.STUCK_AFTER_MINUTES * 60_000 } };
  return wiring;
}

/**
 * A scheduler tick (any message on reconcile-ticks). Errors on one version are recorded and
 * retried by the next tick, so the tick itself is always acknowledged.
 */
export async function reconcilerTick(event: CloudEvent<unknown>): Promise<void> {
  const { ctx, opts } = wire();
  const log = ctx.log;
  const summary = await reconcile(ctx, opts);
  // An idle tick every minute (every few seconds locally) is not news.
  const idle = summary.checked === 0 && summary.errors.length === 0;
  (idle ? log.debug : log.info)('reconciler tick', { eventId: event.id, ...summary });
}
