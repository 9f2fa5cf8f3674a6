import type { CloudEvent } from '@google-cloud/functions-framework';
import type { StorageObjectData } from '@google/events/cloud/storage/v1/StorageObjectData';
import { isPermanent } from '#shared/errors';
import { handleFinalizedImageObject } from '#shared/labeling/intake';
import { intakeRuntime } from './runtime';

/** google.cloud.storage.object.v1.finalized on the images bucket. Throwing asks for redelivery. */
export async function handleFinalized(event: CloudEvent<StorageObjectData>): Promise<void> {
  const { cfg, logger, deps } = intakeRuntime();
  const d = event.data;
  if (!d?.bucket || !d.name) {
    logger.error('storage event without bucket or object name', { eventId: event.id, type: event.type });
    return;
  }
  if (cfg.IMAGES_BUCKET && d.bucket !== cfg.IMAGES_BUCKET) {
    logger.warn('event from a bucket other than the images bucket ignored', { bucket: d.bucket, imagesBucket: cfg.IMAGES_BUCKET });
    return;
  }
  try {
    const outcome = await handleFinalizedImageObject(
      { bucket: d.bucket, name: d.name, generation: String(d.generation ?? '0'), ...(d.metadata ? { metadata: d.metadata } : {}) },
      deps,
    );
    logger.info('image object handled', { eventId: event.id, bucket: d.bucket, object: d.name, generation: d.generation, outcome });
  } catch (err) {
    if (isPermanent(err)) {
      logger.error('image object rejected', { eventId: event.id, object: d.name, error: err });
      return;
    }
    throw err;
  }
}
