import { TransientError, errorMessage } from '#shared/errors';
import type { Logger } from '#shared/logging/logger';
import { systemClock, waitUntilDone } from '#shared/time/wait-until';
import { gsUri } from './core/gs-uri';
import { BATCH_PREFIX } from './batch-submit';
import { parseJobSpec } from './core/job-spec';
import { JOB_SPEC_MAX_BYTES, modelOf, type IntakeBatchDeps } from './job-options';
import { takeInManifest } from './manifest-intake';
import { classifyObject, isPipelineOutput, type ObjectKind } from './core/object-kind';
import type { ClaimOutcome, ManifestCheckpoints, ObjectReader, RequestPublisher } from './ports';
import { BUSY_POLL_MS, recordAndPublish, type RecordDeps } from './record-results';
import { requestAttributes, type PredictionRequest } from './core/request-message';
import type { JobModelCache } from './job-model-cache';
import type { RequestCoalescer } from './request-coalescer';
import { errorResult, resultId } from './result';

export type { IntakeBatchDeps } from './job-options';

export interface IntakeDeps extends RecordDeps {
  reader: ObjectReader;
  requests: RequestPublisher;
  defaultModel: string;
  manifestChunkSize: number;
  /** a manifest bigger than this gets one MANIFEST_TOO_LARGE result (it is streamed, never held whole) */
  manifestMaxBytes: number;
  /** how far each manifest's intake got; absent: a redelivery starts the manifest over (results are still created once) */
  manifestCheckpoints?: ManifestCheckpoints;
  /** online chunks sent per checkpoint write (default 16) */
  manifestCheckpointEvery?: number;
  /** how long one delivery sends a manifest's chunks before leaving the rest to the redelivery; absent: no bound */
  manifestTimeBudgetMs?: number;
  /** how long one delivery owns an event before a redelivery may redo it */
  eventLeaseMs: number;
  /** the batch route (manifest jobs with "mode": "batch" or "auto"); absent: every job runs online */
  batch?: IntakeBatchDeps;
  /**
   * merges the requests of folder images handled together (the wiring makes one per instance
   * over `requests`, maxImages = manifestChunkSize, window IMAGE_REQUEST_WINDOW_MS); absent:
   * each image's request goes out alone
   */
  imageRequests?: Pick<RequestCoalescer, 'publish'>;
  /** each job's model, kept per instance for a few seconds (the wiring's JOB_MODEL_CACHE_MS); absent: read per image */
  jobModels?: JobModelCache;
}

export interface FinalizedObject {
  bucket: string;
  name: string;
  generation: string;
  metadata?: Record<string, string>;
}

/** how long a folder image's request waits for the requests of other images of its job */
export const IMAGE_REQUEST_WINDOW_MS = 250;
/** longest a delivery waits for a duplicate that holds the event (event deliveries time out at 30 s) */
const BUSY_WAIT_MS = 20_000;

/**
 * Turns one finalized object in the images bucket into prediction requests (or ERROR results),
 * once per object generation however often the event is delivered.
 */
export async function handleFinalizedImageObject(obj: FinalizedObject, deps: IntakeDeps): Promise<'ignored' | 'duplicate' | 'handled'> {
  const logger = deps.logger.child({ bucket: obj.bucket, object: obj.name, generation: obj.generation });
  if (isPipelineOutput(obj.metadata)) {
    logger.debug('ignoring an object the pipeline wrote');
    return 'ignored';
  }
  if (obj.name.startsWith(`${BATCH_PREFIX}/`)) {
    logger.debug('ignoring a batch prediction file');
    return 'ignored';
  }
  const kind = classifyObject(obj.name);
  if (kind.kind === 'no-job') {
    // No job means no place for a result: say so loudly instead.
    logger.error('object not labeled', { reason: kind.reason });
    return 'ignored';
  }
  const { job } = kind;
  const key = `${obj.bucket}/${obj.name}#${obj.generation}`;
  // A duplicate delivered beside this one finds the event busy: it waits for the other to
  // finish (then acknowledges) or to give the claim back (then takes it), instead of failing
  // into a redelivery with backoff. Handling one event takes milliseconds, so the wait is short.
  const clock = deps.clock ?? systemClock;
  let claim = 'busy' as ClaimOutcome; // set by the check below
  await waitUntilDone(
    async () => {
      claim = await deps.store.claimEvent(job, key, deps.eventLeaseMs);
      return claim !== 'busy';
    },
    { until: clock.now() + BUSY_WAIT_MS, intervalMs: BUSY_POLL_MS, clock },
  );
  if (claim === 'done') {
    logger.info('duplicate event ignored', { job, key });
    return 'duplicate';
  }
  if (claim === 'busy') throw new TransientError(`event ${key} is being handled by another delivery`);
  try {
    await handleClaimed(obj, kind, deps, logger);
  } catch (err) {
    await deps.store.releaseEvent(job, key).catch(() => undefined);
    throw err;
  }
  await deps.store.finishEvent(job, key);
  return 'handled';
}

async function handleClaimed(obj: FinalizedObject, kind: Exclude<ObjectKind, { kind: 'no-job' }>, deps: IntakeDeps, logger: Logger): Promise<void> {
  const { job } = kind;
  switch (kind.kind) {
    case 'image': {
      const model = await jobModelFor(job, obj.bucket, deps);
      // A folder drop fires one event per image: the images of events handled together share
      // one request, as a manifest's do (each still acknowledged only once it is published).
      const req = { job, model, images: [{ bucket: obj.bucket, name: obj.name, generation: obj.generation }] };
      await (deps.imageRequests ? deps.imageRequests.publish(req) : publishRequest(deps, req));
      break;
    }
    case 'job-spec': {
      const read = await deps.reader.read(obj, JOB_SPEC_MAX_BYTES);
      if (read?.bytes) {
        try {
          const spec = parseJobSpec(read.bytes.toString('utf8'));
          if (spec.model) {
            await deps.store.setJobModel(job, spec.model);
            deps.jobModels?.set(job, spec.model, (deps.clock ?? systemClock).now());
          }
          logger.info('job options read', { job, model: spec.model });
        } catch (err) {
          await recordAndPublish(deps, job, [errorResult(base(job, obj), errorMessage(err), 'INVALID_JOB_SPEC')]);
        }
      } else if (read) {
        await recordAndPublish(deps, job, [errorResult(base(job, obj), `_job.json is larger than ${JOB_SPEC_MAX_BYTES} bytes`, 'INVALID_JOB_SPEC')]);
      }
      break;
    }
    case 'manifest':
      await takeInManifest({ bucket: obj.bucket, name: obj.name, generation: obj.generation }, job, kind.format, deps, logger);
      break;
  }
}

/** The model that labels a folder image's job, creating the job on its first image. */
async function jobModelFor(job: string, bucket: string, deps: IntakeDeps): Promise<string> {
  const now = (deps.clock ?? systemClock).now();
  const cached = deps.jobModels?.get(job, now);
  if (cached) return cached;
  // One read of the job when it exists (modelOf would read it again).
  const existing = await deps.store.getJob(job);
  const model = existing?.model ?? (await modelOf(job, bucket, deps));
  if (!existing) await deps.store.ensureJob(job, model);
  deps.jobModels?.set(job, model, now);
  return model;
}

/**
 * The last word on an event that kept failing for longer than the bound: its object gets one
 * ERROR result saying so (the same result id a success would have had, so a late success
 * cannot add a second), and the event is acknowledged instead of retrying for a day.
 */
export async function giveUpOnEvent(obj: FinalizedObject, deps: IntakeDeps, why: string): Promise<'recorded' | 'no-job'> {
  const kind = classifyObject(obj.name);
  if (kind.kind === 'no-job') return 'no-job';
  await recordAndPublish(deps, kind.job, [errorResult(base(kind.job, obj), why, 'GAVE_UP')]);
  return 'recorded';
}

function base(job: string, obj: FinalizedObject) {
  return { id: resultId(job, obj.bucket, obj.name, obj.generation), job, imageUri: gsUri(obj), generation: obj.generation };
}

async function publishRequest(deps: IntakeDeps, req: PredictionRequest): Promise<void> {
  await deps.requests.publishRequest(req, requestAttributes(req));
}
