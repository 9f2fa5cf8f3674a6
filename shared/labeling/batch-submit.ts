import { gsUri, type ObjectRef } from './core/gs-uri';
import { DEFAULT_PREPARE_LIMITS, ImageRejectedError, prepareImage, type PrepareLimits } from './core/prepare-image';
import type { BatchChunk, BatchChunkStore, BatchFiles, ChunkImage, ImageCodec, ObjectReader } from './ports';
import { recordAndPublish, type RecordDeps } from './record-results';
import { errorResult, resultId, type LabelResult } from './result';

/** Where batch files live: under `_batch/` in the images bucket, which is no job folder, so intake ignores them. */
export const BATCH_PREFIX = '_batch';

export interface BatchPrepareDeps extends RecordDeps {
  reader: ObjectReader;
  chunks: BatchChunkStore;
  files: BatchFiles;
  /** decodes and converts images exactly as the online worker's does */
  imageCodec: ImageCodec;
  /** default: the worker's DEFAULT_PREPARE_LIMITS */
  limits?: PrepareLimits;
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
    rejected += (await prepareBatchChunk(job, model, chunkNo, images.slice(start, start + deps.chunkSize), bucket, deps)).rejected;
  }
  deps.logger.info('batch job prepared', { job, model, chunks: chunkNo, rejected });
  return { chunks: chunkNo, rejected };
}

/**
 * One chunk of a batch job (1-based `chunkNo`, its idempotency key): its instance file and its
 * PREPARED record, or nothing when the chunk is recorded already. Intake's manifest stream
 * calls this chunk by chunk; prepareBatchJob for a list in memory.
 */
export async function prepareBatchChunk(job: string, model: string, chunkNo: number, images: readonly ObjectRef[], bucket: string, deps: BatchPrepareDeps): Promise<{ rejected: number }> {
  if (await deps.chunks.get(job, chunkNo)) return { rejected: 0 };
  const prepared = await prepareAll(job, model, images, deps);
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
  return { rejected: prepared.errors.length };
}

async function prepareAll(job: string, model: string, refs: readonly ObjectRef[], deps: BatchPrepareDeps) {
  const limits = deps.limits ?? DEFAULT_PREPARE_LIMITS;
  const ready: Array<{ image: ChunkImage; bytes: Buffer }> = [];
  const errors: LabelResult[] = [];
  let next = 0;
  const worker = async () => {
    while (next < refs.length) {
      const ref = refs[next++]!;
      const uri = gsUri(ref);
      const obj = await deps.reader.read(ref, limits.maxInputBytes);
      if (!obj) {
        const base = { id: resultId(job, ref.bucket, ref.name, ref.generation ?? null), job, imageUri: uri, generation: ref.generation ?? null };
        errors.push(errorResult(base, `${ref.generation ? `generation ${ref.generation} of ${uri}` : uri} does not exist`, 'NOT_FOUND', model));
        continue;
      }
      const base = { id: resultId(job, ref.bucket, ref.name, obj.generation), job, imageUri: uri, generation: obj.generation };
      try {
        if (!obj.bytes) throw new ImageRejectedError(`the object has ${obj.size} bytes, more than the ${limits.maxInputBytes}-byte limit`, 'TOO_LARGE');
        const p = await prepareImage(deps.imageCodec, obj.bytes, limits);
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
