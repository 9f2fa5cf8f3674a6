import type { Logger } from '#shared/logging/logger';
import { chooseRoute, parseDeadline, type CostInputs } from './cost/cost-model';
import { PRICE_TABLE } from './cost/price-table';
import { parseJobSpec, type JobMode, type JobSpec } from './core/job-spec';
import type { BatchPrepareDeps } from './batch-submit';
import type { LabelStore, ObjectReader } from './ports';
import type { RecordDeps } from './record-results';

export const JOB_SPEC_MAX_BYTES = 64 * 1024;

export interface IntakeBatchDeps {
  prepare: Omit<BatchPrepareDeps, keyof RecordDeps>;
  /** the cost model's inputs for a job of this size (configured machines and measured rates) */
  costInputs(images: number, deadlineMs: number | undefined): CostInputs;
  /** writes jobs/{job}.route: the mode asked for, the route taken, why, and the estimate */
  recordRoute(job: string, route: Record<string, unknown>): Promise<void>;
}

interface JobOptionsDeps {
  store: LabelStore;
  reader: ObjectReader;
  defaultModel: string;
  batch?: IntakeBatchDeps;
}

/**
 * Online or batch, for a manifest job: what the job asks for, `auto` decided by the cost model
 * (the cheaper route that meets the deadline), recorded with the estimate on jobs/{job}.route.
 */
export async function pickRoute(job: string, mode: JobMode, deadline: string | undefined, images: number, deps: JobOptionsDeps, logger: Logger): Promise<'online' | 'batch'> {
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
export async function jobOptions(job: string, bucket: string, deps: JobOptionsDeps): Promise<JobSpec> {
  const spec = await deps.reader.read({ bucket, name: `${job}/_job.json` }, JOB_SPEC_MAX_BYTES);
  if (!spec?.bytes) return {};
  try {
    return parseJobSpec(spec.bytes.toString('utf8'));
  } catch {
    return {};
  }
}

/** The model for a job: the job's record, else `<job>/_job.json`, else the configured default. */
export async function modelOf(job: string, bucket: string, deps: JobOptionsDeps): Promise<string> {
  const doc = await deps.store.getJob(job);
  if (doc?.model) return doc.model;
  return (await jobOptions(job, bucket, deps)).model ?? deps.defaultModel;
}
