import { cloudEvent, type CloudEvent } from '@google-cloud/functions-framework';
import { parseEnv } from '#shared/config/parse-env';
import { onFirstCall } from '#shared/wiring/on-first-call';
import { createLogger } from '#shared/logging/logger';
import { createDeploymentContext } from '#shared/deployment/adapters/deployment-context';
import { reconcilerConfigSchema } from './config';
import { reconcilerTick, type ReconcilerRuntime } from './handler';

/** Config and clients, made on the first tick and reused (one per instance). */
const wire = onFirstCall((): ReconcilerRuntime => {
  const log = createLogger({ component: 'reconciler' });
  const env = parseEnv(reconcilerConfigSchema);
  return { ctx: createDeploymentContext(env, log), opts: { stuckAfterMs: env.STUCK_AFTER_MINUTES * 60_000 } };
});

cloudEvent('reconciler', (event: CloudEvent<unknown>) => reconcilerTick(event, wire()));
