import { isPermanent, TransientError, errorMessage } from '#shared/errors';
import type { Logger } from '#shared/logging/logger';
import { gsUri } from './core/gs-uri';
import type { BatcherRegistry } from './predict-batcher';
import { ImageRejectedError, prepareImage, type PrepareLimits } from './core/prepare-image';
import type { ImageCodec, ModelEndpoints, ObjectReader } from './ports';
import { recordAndPublish, type RecordDeps } from './record-results';
import type { PredictionRequest } from './core/request-message';
import { errorResult, okResult, resultId, type LabelResult } from './result';

export interface WorkerDeps extends RecordDeps {
  reader: ObjectReader;
  endpoints: ModelEndpoints;
  batchers: BatcherRegistry;
  imageCodec: ImageCodec;
  limits: PrepareLimits;
  /** images of one message read and prepared at once */
  readConcurrency: number;
}

interface ReadyImage {
  base: Pick<LabelResult, 'id' | 'job' | 'imageUri' | 'generation'>;
  bytes: Buffer;
}

/**
 * Labels the images of one prediction request. Images that cannot be labeled become ERROR
 * results right away; the others share predict calls with every other invocation in this
 * instance. Transient trouble (a busy endpoint past the time budget, a model without an
 * endpoint yet) is thrown after everything definitive is recorded, so Pub/Sub redelivers
 * and a redelivery only redoes what is missing.
 */
export async function labelImages(req: PredictionRequest, deps: WorkerDeps, opts: { deadline: number; logger?: Logger }): Promise<void> {
  const logger = (opts.logger ?? deps.logger).child({ job: req.job, model: req.model });
  const ready: ReadyImage[] = [];
  const definitive: LabelResult[] = [];

  const loaded = await mapLimit(req.images, deps.readConcurrency, async (image) => {
    const uri = gsUri(image);
    const obj = await deps.reader.read(image, deps.limits.maxInputBytes);
    if (!obj) {
      const base = { id: resultId(req.job, image.bucket, image.name, image.generation ?? null), job: req.job, imageUri: uri, generation: image.generation ?? null };
      const what = image.generation ? `generation ${image.generation} of ${uri}` : uri;
      return { kind: 'done' as const, result: errorResult(base, `${what} does not exist`, 'NOT_FOUND', req.model) };
    }
    const base = { id: resultId(req.job, image.bucket, image.name, obj.generation), job: req.job, imageUri: uri, generation: obj.generation };
    return { kind: 'read' as const, base, obj };
  });

  const published = await deps.store.publishedResultIds(
    req.job,
    loaded.map((l) => (l.kind === 'done' ? l.result.id : l.base.id)),
  );
  const toPrepare = loaded.filter((l) => !published.has(l.kind === 'done' ? l.result.id : l.base.id));
  if (toPrepare.length < loaded.length) logger.info('skipping images already labeled in this job', { skipped: loaded.length - toPrepare.length });

  await mapLimit(toPrepare, deps.readConcurrency, async (l) => {
    if (l.kind === 'done') {
      definitive.push(l.result);
      return;
    }
    try {
      if (!l.obj.bytes) throw new ImageRejectedError(`the object has ${l.obj.size} bytes, more than the ${deps.limits.maxInputBytes}-byte limit`, 'TOO_LARGE');
      const prepared = await prepareImage(deps.imageCodec, l.obj.bytes, deps.limits);
      ready.push({ base: l.base, bytes: prepared.bytes });
    } catch (err) {
      if (!(err instanceof ImageRejectedError)) throw err;
      definitive.push(errorResult(l.base, err.message, err.rejection, req.model));
    }
  });

  let transient: Error | undefined;
  if (ready.length > 0) {
    const target = await deps.endpoints.endpointOf(req.model);
    if (!target) {
      transient = new TransientError(`model ${req.model} has no endpoint (models/${req.model}.endpoint is not set)`);
    } else {
      const outcomes = await deps.batchers.for(target.endpoint, target.maxInstancesPerCall).submit(ready.map((r) => ({ bytes: r.bytes, deadline: opts.deadline })));
      outcomes.forEach((o, i) => {
        const base = ready[i]!.base;
        if (o.ok) {
          definitive.push(
            okResult(base, {
              label: o.label,
              confidence: o.confidence,
              modelName: req.model,
              model: o.model,
              modelVersionId: o.modelVersionId,
              deployedModelId: o.deployedModelId,
              latencyMs: o.latencyMs,
            }),
          );
        } else if (isPermanent(o.error)) {
          definitive.push(errorResult(base, o.error.message, o.error.reason, req.model));
        } else {
          transient = o.error;
        }
      });
    }
  }

  await recordAndPublish(deps, req.job, definitive);
  if (transient) {
    logger.warn('request not finished; Pub/Sub will redeliver it', { error: errorMessage(transient), labeled: definitive.length, images: req.images.length });
    throw transient;
  }
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
