import type { CloudEvent } from '@google-cloud/functions-framework';
import type { MessagePublishedData } from '@google/events/cloud/pubsub/v1/MessagePublishedData';
import { isPermanent } from '#shared/errors';
import type { Logger } from '#shared/logging/logger';
import { decodeRequest } from '#shared/labeling/core/pubsub-message';
import { labelImages, type WorkerDeps } from '#shared/labeling/label-images';
import type { WorkerConfig } from './config';

export interface WorkerRuntime {
  cfg: WorkerConfig;
  logger: Logger;
  deps: WorkerDeps;
}

/** A push delivery from the prediction-requests subscription. Throwing makes Pub/Sub redeliver. */
export async function handlePredictionRequest(event: CloudEvent<MessagePublishedData>, { cfg, logger, deps }: WorkerRuntime): Promise<void> {
  let parsed;
  try {
    parsed = decodeRequest(event.data, event.id);
  } catch (err) {
    if (!isPermanent(err)) throw err;
    logger.error('unreadable prediction request acknowledged', { eventId: event.id, error: err });
    return;
  }
  const { request, messageId, deliveryAttempt } = parsed;
  const log = logger.child({ messageId, job: request.job, deliveryAttempt });
  const publishTime = event.data?.message?.publishTime;
  log.debug('prediction request received', { images: request.images.length, sincePublishMs: publishTime ? Date.now() - Date.parse(String(publishTime)) : undefined });
  await labelImages(request, deps, { deadline: Date.now() + cfg.PREDICT_RETRY_BUDGET_MS, logger: log });
  log.info('prediction request done', { images: request.images.length });
}
