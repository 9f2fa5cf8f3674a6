import { TransientError } from '#shared/errors';
import type { BatchChunk, BatchChunkStore, BatchFiles, BatchJobs, BatchModels, ChunkImage } from './batch-ports';
import { gsUri, type ObjectRef } from './gs-uri';
import type { ObjectReader } from './ports';
import { ImageRejectedError, prepareImage, type PrepareLimits } from './prepare-image';
import { recordAndPublish, type RecordDeps } from './record-results';
import { errorResult, resultId, type LabelResult } from './result';

/** Where batch files live: under `_batch/` in the images bucket, which is no job folder, so intake ignores them. */
export const BATCH_PREFIX = '_batch';

export interface BatchPrepareDeps extends RecordDeps {
  reader: ObjectReader;
  chunks: BatchChunkStore;
  files: BatchFiles;
  limits: PrepareLimits;
  /** images per BatchPredictionJob */
  chunkSize: number;
  readConcurrency: number;
}

/**
 * The batch route of a manifest job, in image-intake: each image is read and prepared exactly
 * as the online worker prepares it; those that cannot be get their ERROR result here, before
 * any batch job exists; the rest are written as jsonl instances keyed by their result id
 * (`{"key": id, "string_input": {"b64": ...}}`, instanceConfig.keyField = "key"), one file per
 * chunk, and each chunk is recorded PREPARED for the batch follower to submit. Idempotent: a
 * chunk already recorded is skipped, and a rewritten file has the same bytes.
 */
export async function prepareBatchJob(job: string, model: string, images: readonly ObjectRef[], bucket: string, deps: BatchPrepareDeps): Promise<{ chunks: number; rejected: number }> {
  let rejected = 0;
  let chunkNo = 0;
  for (let start = 0; start < images.length; start += deps.chunkSize) {
    chunkNo++;
    if (await deps.chunks.get(job, chunkNo)) continue;
    const prepared = await prepareAll(job, model, images.slice(start, start + deps.chunkSize), deps);
    rejected += prepared.errors.length;
    await recordAndPublish(deps, job, prepared.errors);
    const n = String(chunkNo).padStart(5, '0');
    const chunk: BatchChunk = {
      job,
      chunk: chunkNo,
      model,
      images: prepared.ready.map((r) => r.image),
      inputUri: `gs://${bucket}/${BATCH_PREFIX}/${job}/input-${n}.jsonl`,
      outputUriPrefix: `gs://${bucket}/${BATCH_PREFIX}/${job}/output-${n}`,
      state: prepared.ready.length ? 'PREPARED' : 'IMPORTED',
    };
    if (prepared.ready.length) {
      await deps.files.write(chunk.inputUri, Buffer.from(prepared.ready.map((r) => `${JSON.stringify({ key: r.image.id, string_input: { b64: r.bytes.toString('base64') } })}\n`).join('')));
    }
    await deps.chunks.put(chunk);
  }
  deps.logger.info('batch job prepared', { job, model, chunks: chunkNo, rejected });
  return { chunks: chunkNo, rejected };
}

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
    (await deps.jobs.create({ displayName: `dropship ${chunk.job} ${chunk.chunk}`, model: vertexModel, inputUri: chunk.inputUri, outputUriPrefix: chunk.outputUriPrefix, keyField: 'key', batchSize: deps.batchSize, label }));
  const submitted: BatchChunk = { ...chunk, vertexJob: name, vertexModel, state: 'SUBMITTED' };
  await deps.chunks.put(submitted);
  deps.logger.info('batch prediction job submitted', { job: chunk.job, chunk: chunk.chunk, images: chunk.images.length, vertexJob: name });
  return submitted;
}

/** A label value naming one chunk (labels: lowercase, digits, - and _, 63 chars at most). */
export function chunkLabel(job: string, chunk: number): string {
  const base = job.toLowerCase().replace(/[^a-z0-9_-]/g, '-').slice(0, 50);
  return `${base}-${chunk}`;
}

async function prepareAll(job: string, model: string, refs: readonly ObjectRef[], deps: BatchPrepareDeps) {
  const ready: Array<{ image: ChunkImage; bytes: Buffer }> = [];
  const errors: LabelResult[] = [];
  let next = 0;
  const worker = async () => {
    while (next < refs.length) {
      const ref = refs[next++]!;
      const uri = gsUri(ref);
      const obj = await deps.reader.read(ref, deps.limits.maxInputBytes);
      if (!obj) {
        const base = { id: resultId(job, ref.bucket, ref.name, ref.generation ?? null), job, imageUri: uri, generation: ref.generation ?? null };
        errors.push(errorResult(base, `${ref.generation ? `generation ${ref.generation} of ${uri}` : uri} does not exist`, 'NOT_FOUND', model));
        continue;
      }
      const base = { id: resultId(job, ref.bucket, ref.name, obj.generation), job, imageUri: uri, generation: obj.generation };
      try {
        if (!obj.bytes) throw new ImageRejectedError(`the object has ${obj.size} bytes, more than the ${deps.limits.maxInputBytes}-byte limit`, 'TOO_LARGE');
        const p = await prepareImage(obj.bytes, deps.limits);
        ready.push({ image: base, bytes: p.bytes });
      } catch (err) {
        if (!(err instanceof ImageRejectedError)) throw err;
        errors.push(errorResult(base, err.message, err.rejection, model));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(deps.readConcurrency, refs.length)) }, worker));
  // Same order every time, so a rewritten instance file has the same bytes.
  ready.sort((a, b) => a.image.id.localeCompare(b.image.id));
  return { ready, errors };
}
