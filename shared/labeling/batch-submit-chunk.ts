import { TransientError } from '#shared/errors';
import type { BatchChunk, BatchChunkStore, BatchJobs, BatchModels } from './ports';
import type { RecordDeps } from './record-results';

export interface BatchSubmitDeps {
  chunks: BatchChunkStore;
  jobs: BatchJobs;
  models: BatchModels;
  /** manualBatchTuningParameters.batchSize */
  batchSize: number;
  logger: RecordDeps['logger'];
}

/**
 * Creates the BatchPredictionJob of a PREPARED chunk, once: the job carries a label naming the
 * chunk, so when a create's answer was lost the next attempt finds the job instead of making a
 * second one. A model with no Vertex AI model yet is transient (deployment may still run).
 */
export async function submitChunk(chunk: BatchChunk, deps: BatchSubmitDeps): Promise<BatchChunk> {
  const vertexModel = await deps.models.vertexModelOf(chunk.model);
  if (!vertexModel) throw new TransientError(`model ${chunk.model} has no Vertex AI model yet (models/${chunk.model}.vertexModel is not set)`);
  const label = chunkLabel(chunk.job, chunk.chunk);
  const name =
    (await deps.jobs.findByLabel(label)) ??
    (await deps.jobs.create({
      displayName: `dropship ${chunk.job} ${chunk.chunk}`,
      model: vertexModel,
      inputUri: chunk.inputUri,
      outputUriPrefix: chunk.outputUriPrefix,
      keyField: 'key',
      batchSize: deps.batchSize,
      label,
    }));
  const submitted: BatchChunk = { ...chunk, vertexJob: name, vertexModel, state: 'SUBMITTED' };
  await deps.chunks.put(submitted);
  deps.logger.info('batch prediction job submitted', { job: chunk.job, chunk: chunk.chunk, images: chunk.images.length, vertexJob: name });
  return submitted;
}

/** A label value naming one chunk (labels: lowercase, digits, - and _, 63 chars at most). */
export function chunkLabel(job: string, chunk: number): string {
  const base = job
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '-')
    .slice(0, 50);
  return `${base}-${chunk}`;
}
