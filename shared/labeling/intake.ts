import { TransientError, errorMessage } from '#shared/errors';
import type { Logger } from '#shared/logging/logger';
import { systemClock, waitUntilDone } from '#shared/time/wait-until';
import { gsUri } from './core/gs-uri';
import { BATCH_PREFIX, prepareBatchJob, type BatchPrepareDeps } from './batch-submit';
import { chooseRoute, parseDeadline, type CostInputs } from './cost/cost-model';
import { PRICE_TABLE } from './cost/price-table';
import { parseJobSpec, type JobMode, type JobSpec } from './core/job-spec';
import { parseManifest } from './core/manifest';
import { classifyObject, isPipelineOutput, type ObjectKind } from './core/object-kind';
import type { ClaimOutcome, ObjectReader, RequestPublisher } from './ports';
import { BUSY_POLL_MS, recordAndPublish, type RecordDeps } from './record-results';
import { chunk, requestAttributes, type PredictionRequest } from './core/request-message';
import type { RequestCoalescer } from './request-coalescer';
import { errorResult, manifestLineResultId, resultId } from './result';

export interface IntakeDeps extends RecordDeps {
  reader: ObjectReader;
  requests: RequestPublisher;
  defaultModel: string;
  manifestChunkSize: number;
  manifestMaxBytes: number;
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
}

export interface IntakeBatchDeps {
  prepare: Omit<BatchPrepareDeps, keyof RecordDeps>;
  /** the cost model's inputs for a job of this size (configured machines and measured rates) */
  costInputs(images: number, deadlineMs: number | undefined): CostInputs;
  /** writes jobs/{job}.route: the mode asked for, the route taken, why, and the estimate */
  recordRoute(job: string, route: Record<string, unknown>): Promise<void>;
}

export interface FinalizedObject {
  bucket: string;
  name: string;
  generation: string;
  metadata?: Record<string, string>;
}

const JOB_SPEC_MAX_BYTES = 64 * 1024;
/** how long a folder image's request waits for the requests of other images of its job */
export const IMAGE_REQUEST_WINDOW_MS = 100;
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
  const uri = gsUri(obj);
  switch (kind.kind) {
    case 'image': {
      // One read of the job per image when it exists (modelOf would read it again).
      const existing = await deps.store.getJob(job);
      const model = existing?.model ?? (await modelOf(job, obj.bucket, deps));
      if (!existing) await deps.store.ensureJob(job, model);
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
          if (spec.model) await deps.store.setJobModel(job, spec.model);
          logger.info('job options read', { job, model: spec.model });
        } catch (err) {
          await recordAndPublish(deps, job, [errorResult(base(job, obj), errorMessage(err), 'INVALID_JOB_SPEC')]);
        }
      } else if (read) {
        await recordAndPublish(deps, job, [errorResult(base(job, obj), `_job.json is larger than ${JOB_SPEC_MAX_BYTES} bytes`, 'INVALID_JOB_SPEC')]);
      }
      break;
    }
    case 'manifest': {
      const read = await deps.reader.read(obj, deps.manifestMaxBytes);
      if (!read) break; // deleted since: nothing to label
      if (!read.bytes) {
        const model = await modelOf(job, obj.bucket, deps);
        await deps.store.setJobTotal(job, 1, model, uri);
        await recordAndPublish(deps, job, [errorResult(base(job, obj), `the manifest has ${read.size} bytes, more than the ${deps.manifestMaxBytes}-byte limit`, 'MANIFEST_TOO_LARGE', model)]);
        break;
      }
      const manifest = parseManifest(read.bytes.toString('utf8'), kind.format);
      const model = manifest.model ?? (await modelOf(job, obj.bucket, deps));
      const total = manifest.entries.length + manifest.bad.length;
      // The total is known before any request goes out, so completion can never be announced early.
      await deps.store.setJobTotal(job, total, model, uri);
      logger.info('manifest read', { job, model, images: manifest.entries.length, badLines: manifest.bad.length, duplicateLines: manifest.duplicates });
      const bad = manifest.bad.map((b) =>
        errorResult(
          { id: manifestLineResultId(job, uri, b.line), job, imageUri: `${uri}#line=${b.line}`, generation: null },
          `${b.reason} (line ${b.line}: ${b.text})`,
          'BAD_MANIFEST_LINE',
          model,
        ),
      );
      await recordAndPublish(deps, job, bad);
      const spec = await jobOptions(job, obj.bucket, deps);
      const route = await pickRoute(job, manifest.mode ?? spec.mode ?? 'online', manifest.deadline ?? spec.deadline, manifest.entries.length, deps, logger);
      if (route === 'batch' && deps.batch) {
        await prepareBatchJob(job, model, manifest.entries.map((e) => e.ref), obj.bucket, { ...deps, ...deps.batch.prepare });
        break;
      }
      const chunks = chunk(manifest.entries, deps.manifestChunkSize);
      await Promise.all(chunks.map((c) => publishRequest(deps, { job, model, images: c.map((e) => e.ref) })));
      break;
    }
  }
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

/**
 * Online or batch, for a manifest job: what the job asks for, `auto` decided by the cost model
 * (the cheaper route that meets the deadline), recorded with the estimate on jobs/{job}.route.
 */
async function pickRoute(job: string, mode: JobMode, deadline: string | undefined, images: number, deps: IntakeDeps, logger: Logger): Promise<'online' | 'batch'> {
  if (mode === 'online') return 'online';
  if (!deps.batch) {
    logger.warn('the batch route is not configured here; the job runs online', { job, mode });
    return 'online';
  }
  if (mode === 'batch') {
    await deps.batch.recordRoute(job, { mode, route: 'batch', reason: 'the job asks for batch' });
    return 'batch';
  }
  const choice = chooseRoute(PRICE_TABLE, deps.batch.costInputs(images, deadline ? parseDeadline(deadline) : undefined));
  await deps.batch.recordRoute(job, { mode, route: choice.route, reason: choice.reason, estimate: choice.estimate, ...(deadline ? { deadline } : {}) });
  logger.info('job route chosen', { job, route: choice.route, reason: choice.reason });
  return choice.route;
}

/** `<job>/_job.json`'s options; {} when absent or invalid (its own event records the error). */
async function jobOptions(job: string, bucket: string, deps: IntakeDeps): Promise<JobSpec> {
  const spec = await deps.reader.read({ bucket, name: `${job}/_job.json` }, JOB_SPEC_MAX_BYTES);
  if (!spec?.bytes) return {};
  try {
    return parseJobSpec(spec.bytes.toString('utf8'));
  } catch {
    return {};
  }
}

/** The model for a job: the job's record, else `<job>/_job.json`, else the configured default. */
async function modelOf(job: string, bucket: string, deps: IntakeDeps): Promise<string> {
  const doc = await deps.store.getJob(job);
  if (doc?.model) return doc.model;
  const spec = await deps.reader.read({ bucket, name: `${job}/_job.json` }, JOB_SPEC_MAX_BYTES);
  if (spec?.bytes) {
    try {
      const model = parseJobSpec(spec.bytes.toString('utf8')).model;
      if (model) return model;
    } catch {
      // its own event records the error
    }
  }
  return deps.defaultModel;
}

