import { TransientError } from '#shared/errors';
import type { Logger } from '#shared/logging/logger';
import { systemClock } from '#shared/time/wait-until';
import { prepareBatchChunk } from './batch-submit';
import { gsUri, type ObjectRef } from './core/gs-uri';
import { manifestChunks, type ManifestChunk, type ManifestOptions } from './core/manifest';
import { requestAttributes, type PredictionRequest } from './core/request-message';
import type { IntakeDeps } from './intake';
import { jobOptions, modelOf, pickRoute } from './job-options';
import type { ManifestCheckpoint } from './ports';
import { recordAndPublish } from './record-results';
import { errorResult, manifestLineResultId, resultId } from './result';

/**
 * Thrown when a manifest's delivery has used its time budget: what it sent is checkpointed,
 * and the redelivery of the same event resumes at the next chunk.
 */
export class ManifestContinues extends TransientError {
  constructor(
    readonly job: string,
    readonly chunksDone: number,
  ) {
    super(`manifest of job ${job} continues from chunk ${chunksDone} in the event's redelivery`);
    this.name = 'ManifestContinues';
  }
}

type Manifest = ObjectRef & { generation: string };

/**
 * A manifest job, read as a stream, twice at most per delivery: once to count its lines (the
 * job's total is set before any request goes out, so completion is never announced early),
 * then chunk by chunk to send each chunk's request (online) or batch instance file. The
 * checkpoint jobs/{job}.manifestIntake records how many chunks are out; a delivery that runs
 * past its time budget (or crashes) leaves the rest to the event's redelivery, which skips the
 * chunks the checkpoint counts. Chunks are cut from the manifest alone, so every reading
 * numbers them alike: a chunk index is the idempotency key of its request and its batch file.
 */
export async function takeInManifest(obj: Manifest, job: string, format: 'jsonl' | 'txt', deps: IntakeDeps, logger: Logger): Promise<void> {
  const clock = deps.clock ?? systemClock;
  const started = clock.now();
  const uri = gsUri(obj);
  const key = `${obj.bucket}/${obj.name}#${obj.generation}`;
  const stat = await deps.reader.read(obj, 0);
  if (!stat) return; // deleted since: nothing to label
  if (stat.size > deps.manifestMaxBytes) {
    const model = await modelOf(job, obj.bucket, deps);
    await deps.store.setJobTotal(job, 1, model, uri);
    const base = { id: resultId(job, obj.bucket, obj.name, obj.generation), job, imageUri: uri, generation: obj.generation };
    await recordAndPublish(deps, job, [errorResult(base, `the manifest has ${stat.size} bytes, more than the ${deps.manifestMaxBytes}-byte limit`, 'MANIFEST_TOO_LARGE', model)]);
    return;
  }
  const saved = await deps.manifestCheckpoints?.get(job);
  const cp = saved?.key === key ? saved : await startManifest(obj, job, format, key, deps, logger);
  const batch = cp.route === 'batch' ? deps.batch : undefined;
  const size = batch ? batch.prepare.chunkSize : deps.manifestChunkSize;
  // Online chunks go out a window at a time (one checkpoint write per window); batch chunks are
  // seconds of work each, so each is checkpointed.
  const windowSize = batch ? 1 : (deps.manifestCheckpointEvery ?? 16);
  let window: ManifestChunk[] = [];
  const flush = async () => {
    if (!window.length) return;
    await sendChunks(window, obj, job, cp, deps);
    cp.chunksDone = window[window.length - 1]!.index + 1;
    await deps.manifestCheckpoints?.put(job, cp);
    window = [];
  };
  for await (const c of manifestChunks(deps.reader.readLines(obj), format, size)) {
    if ('options' in c || c.index < cp.chunksDone) continue;
    if (!window.length && deps.manifestTimeBudgetMs !== undefined && clock.now() - started >= deps.manifestTimeBudgetMs) {
      logger.info('manifest time budget used; the redelivery continues', { job, chunksDone: cp.chunksDone, budgetMs: deps.manifestTimeBudgetMs });
      throw new ManifestContinues(job, cp.chunksDone);
    }
    window.push(c);
    if (window.length >= windowSize) await flush();
  }
  await flush();
  logger.info('manifest taken in', { job, route: cp.route, chunks: cp.chunksDone, images: cp.images, total: cp.total });
}

/** First reading: counts the lines, sets the job's total, picks the route, and writes the first checkpoint. */
async function startManifest(obj: Manifest, job: string, format: 'jsonl' | 'txt', key: string, deps: IntakeDeps, logger: Logger): Promise<ManifestCheckpoint> {
  let options: ManifestOptions = {};
  let images = 0;
  let bad = 0;
  let duplicates = 0;
  for await (const c of manifestChunks(deps.reader.readLines(obj), format, deps.manifestChunkSize)) {
    if ('options' in c) {
      options = c.options;
      continue;
    }
    images += c.entries.length;
    bad += c.bad.length;
    duplicates += c.duplicates;
  }
  const model = options.model ?? (await modelOf(job, obj.bucket, deps));
  const total = images + bad;
  await deps.store.setJobTotal(job, total, model, gsUri(obj));
  logger.info('manifest read', { job, model, images, badLines: bad, duplicateLines: duplicates });
  const spec = await jobOptions(job, obj.bucket, deps);
  const route = await pickRoute(job, options.mode ?? spec.mode ?? 'online', options.deadline ?? spec.deadline, images, deps, logger);
  const cp: ManifestCheckpoint = { key, model, total, images, route: route === 'batch' && deps.batch ? 'batch' : 'online', chunksDone: 0 };
  await deps.manifestCheckpoints?.put(job, cp);
  return cp;
}

async function sendChunks(chunks: readonly ManifestChunk[], obj: Manifest, job: string, cp: ManifestCheckpoint, deps: IntakeDeps): Promise<void> {
  const uri = gsUri(obj);
  const bad = chunks.flatMap((c) =>
    c.bad.map((b) =>
      errorResult({ id: manifestLineResultId(job, uri, b.line), job, imageUri: `${uri}#line=${b.line}`, generation: null }, `${b.reason} (line ${b.line}: ${b.text})`, 'BAD_MANIFEST_LINE', cp.model),
    ),
  );
  await recordAndPublish(deps, job, bad);
  const withImages = chunks.filter((c) => c.entries.length > 0);
  if (cp.route === 'batch' && deps.batch) {
    for (const c of withImages) {
      await prepareBatchChunk(
        job,
        cp.model,
        c.index + 1,
        c.entries.map((e) => e.ref),
        obj.bucket,
        { ...deps, ...deps.batch.prepare },
      );
    }
    return;
  }
  // Settled, not raced: a failed chunk fails the delivery only once every other chunk of the
  // window has gone out or failed too, so nothing of this delivery is still in flight when the
  // redelivery starts at the checkpoint.
  const sent = await Promise.allSettled(
    withImages.map((c) => {
      const req: PredictionRequest = { job, model: cp.model, images: c.entries.map((e) => e.ref) };
      // the chunk's idempotency key: a resumed delivery that sends a chunk again sends the same request
      return deps.requests.publishRequest(req, { ...requestAttributes(req), manifest: `${obj.name}#${obj.generation}`, manifestChunk: String(c.index) });
    }),
  );
  const failed = sent.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
