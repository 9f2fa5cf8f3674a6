import type { Logger } from '#shared/logging/logger';
import { gsUri } from './core/gs-uri';
import type { ModelEndpoints, ObjectReader } from './ports';
import { recordAndPublish, type RecordDeps } from './record-results';
import type { PredictionRequest } from './core/request-message';
import { errorResult, resultId } from './result';

export interface DeadLetterDeps extends RecordDeps {
  reader: ObjectReader;
  endpoints: ModelEndpoints;
}

/**
 * A prediction request that failed every delivery attempt: each of its images that has no
 * result yet gets an ERROR result, so the job's accounting still adds up.
 */
export async function recordDeadLetter(req: PredictionRequest, deps: DeadLetterDeps, info: { deliveryAttempts?: number; logger?: Logger }): Promise<void> {
  const endpoint = await deps.endpoints.endpointOf(req.model);
  const attempts = info.deliveryAttempts ? `${info.deliveryAttempts} delivery attempts` : 'every delivery attempt';
  const cause = endpoint ? 'see the predict-worker logs for the last error' : `model ${req.model} has no endpoint`;
  const results = await Promise.all(
    req.images.map(async (image) => {
      // The same id the worker would have used: it keys on the generation it read.
      const obj = image.generation ? undefined : await deps.reader.read(image, 0);
      const generation = image.generation ?? obj?.generation ?? null;
      return errorResult(
        { id: resultId(req.job, image.bucket, image.name, generation), job: req.job, imageUri: gsUri(image), generation },
        `the prediction request failed ${attempts} (${cause})`,
        'DEAD_LETTERED',
        req.model,
      );
    }),
  );
  (info.logger ?? deps.logger).error('prediction request dead-lettered', { job: req.job, model: req.model, images: req.images.length, cause });
  await recordAndPublish(deps, req.job, results);
}
