import type { CloudEvent } from '@google-cloud/functions-framework';
import type { MessagePublishedData } from '@google/events/cloud/pubsub/v1/MessagePublishedData';
import { parseEnv } from '#shared/config/parse-env';
import { isPermanent } from '#shared/errors';
import { createLogger, type Logger } from '#shared/logging/logger';
import { deadLetterConfigSchema } from '#shared/labeling/config';
import { recordDeadLetter, type DeadLetterDeps } from '#shared/labeling/dead-letter';
import { requestFromEvent } from '#shared/labeling/pubsub-event';
import { buildDeadLetterDeps } from '#shared/labeling/wiring';

let runtime: { logger: Logger; deps: DeadLetterDeps } | undefined;

function deadLetterRuntime() {
  if (!runtime) {
    const cfg = parseEnv(deadLetterConfigSchema);
    const logger = createLogger({ component: 'dead-letter-recorder' });
    runtime = { logger, deps: buildDeadLetterDeps(cfg, logger) };
  }
  return runtime;
}

/** A prediction request that used up its delivery attempts: its images become ERROR results. */
export async function handleDeadLetter(event: CloudEvent<MessagePublishedData>): Promise<void> {
  const { logger, deps } = deadLetterRuntime();
  let parsed;
  try {
    parsed = requestFromEvent(event);
  } catch (err) {
    if (!isPermanent(err)) throw err;
    logger.error('unreadable dead letter acknowledged', { eventId: event.id, error: err });
    return;
  }
  // Pub/Sub stamps how often the original was delivered on the dead-lettered copy.
  const count = Number(event.data?.message?.attributes?.CloudPubSubDeadLetterSourceDeliveryCount);
  await recordDeadLetter(parsed.request, deps, { ...(Number.isFinite(count) && count > 0 ? { deliveryAttempts: count } : {}), logger: logger.child({ job: parsed.request.job }) });
}
