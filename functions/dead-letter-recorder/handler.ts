import type { CloudEvent } from '@google-cloud/functions-framework';
import type { MessagePublishedData } from '@google/events/cloud/pubsub/v1/MessagePublishedData';
import { isPermanent } from '#shared/errors';
import type { Logger } from '#shared/logging/logger';
import { decodeRequest } from '#shared/labeling/core/pubsub-message';
import { recordDeadLetter, type DeadLetterDeps } from '#shared/labeling/dead-letter';

export interface DeadLetterRuntime {
  logger: Logger;
  deps: DeadLetterDeps;
}

/** A prediction request that used up its delivery attempts: its images become ERROR results. */
export async function handleDeadLetter(event: CloudEvent<MessagePublishedData>, { logger, deps }: DeadLetterRuntime): Promise<void> {
  let parsed;
  try {
    parsed = decodeRequest(event.data, event.id);
  } catch (err) {
    if (!isPermanent(err)) throw err;
    logger.error('unreadable dead letter acknowledged', { eventId: event.id, error: err });
    return;
  }
  // Pub/Sub stamps how often the original was delivered on the dead-lettered copy.
  const count = Number(event.data?.message?.attributes?.CloudPubSubDeadLetterSourceDeliveryCount);
  await recordDeadLetter(parsed.request, deps, { ...(Number.isFinite(count) && count > 0 ? { deliveryAttempts: count } : {}), logger: logger.child({ job: parsed.request.job }) });
}
