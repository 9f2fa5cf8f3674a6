import type { CloudEvent } from '@google-cloud/functions-framework';
import type { StorageObjectData } from '@google/events/cloud/storage/v1/StorageObjectData';
import { errorMessage, isPermanent } from '#shared/errors';
import { eventAgeMs } from '#shared/events/event-age';
import type { Logger } from '#shared/logging/logger';
import { giveUpOnEvent, handleFinalizedImageObject, type IntakeDeps } from '#shared/labeling/intake';
import { ManifestContinues } from '#shared/labeling/manifest-intake';
import type { IntakeConfig } from './config';

export interface IntakeRuntime {
  cfg: IntakeConfig;
  logger: Logger;
  deps: IntakeDeps;
}

/** google.cloud.storage.object.v1.finalized on the images bucket. Throwing asks for redelivery. */
export async function handleFinalized(event: CloudEvent<StorageObjectData>, { cfg, logger, deps }: IntakeRuntime): Promise<void> {
  const d = event.data;
  if (!d?.bucket || !d.name) {
    logger.error('storage event without bucket or object name', { eventId: event.id, type: event.type });
    return;
  }
  if (cfg.IMAGES_BUCKET && d.bucket !== cfg.IMAGES_BUCKET) {
    logger.warn('event from a bucket other than the images bucket ignored', { bucket: d.bucket, imagesBucket: cfg.IMAGES_BUCKET });
    return;
  }
  const obj = { bucket: d.bucket, name: d.name, generation: String(d.generation ?? '0'), ...(d.metadata ? { metadata: d.metadata } : {}) };
  try {
    const outcome = await handleFinalizedImageObject(obj, deps);
    logger.info('image object handled', { eventId: event.id, bucket: d.bucket, object: d.name, generation: d.generation, outcome });
  } catch (err) {
    // A manifest continuing in its redelivery is progress, not a failure: never given up on for its age.
    if (err instanceof ManifestContinues) {
      logger.info('manifest continues in the redelivery', { eventId: event.id, object: d.name, chunksDone: err.chunksDone });
      throw err;
    }
    if (isPermanent(err)) {
      logger.error('image object rejected', { eventId: event.id, object: d.name, error: err });
      return;
    }
    const ageMs = eventAgeMs(event.time ?? (d.timeCreated ? new Date(d.timeCreated).toISOString() : undefined), Date.now());
    if (ageMs !== undefined && ageMs > cfg.MAX_EVENT_AGE_MINUTES * 60_000) {
      const why = `gave up after ${Math.round(ageMs / 60_000)} min of retries: ${errorMessage(err)}`;
      await giveUpOnEvent(obj, deps, why);
      logger.error('image object given up', { eventId: event.id, object: d.name, ageMs, error: err });
      return;
    }
    throw err;
  }
}
