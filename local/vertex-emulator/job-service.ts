import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { ApiError, failedPrecondition, invalidArgument, notFound } from './api-error';
import { parseGcsUri, type ObjectWriter } from './batch-io';
import { TERMINAL_STATES, type BatchJobRecord, type BatchJobSpec, type BatchJobStore, type JobState } from './batch-job-store';
import { runBatch } from './batch-runner';
import { V1, type EmulatorContext } from './context';
import type { OperationKind } from './faults';
import { unary } from './grpc-handler';
import { paginate, parseListFilter } from './list-filter';
import { findModel, resolveVersion } from './model-registry';
import { locationPath, numericId, parseLocation } from './names';
import { nowIso, timestamp, type OperationRecord } from './store';

/** Vertex AI's default manualBatchTuningParameters.batchSize. */
export const DEFAULT_BATCH_SIZE = 64;

interface JobIn {
  displayName?: string;
  model?: string;
  inputConfig?: { instancesFormat?: string; gcsSource?: { uris?: string[] }; bigquerySource?: unknown };
  instanceConfig?: { instanceType?: string; keyField?: string; includedFields?: string[]; excludedFields?: string[] };
  outputConfig?: { predictionsFormat?: string; gcsDestination?: { outputUriPrefix?: string }; bigqueryDestination?: unknown };
  dedicatedResources?: { machineSpec?: { machineType?: string }; startingReplicaCount?: number; maxReplicaCount?: number };
  manualBatchTuningParameters?: { batchSize?: number };
  modelParameters?: unknown;
  labels?: Record<string, string>;
  serviceAccount?: string;
  disableContainerLogging?: boolean;
}

export interface JobServiceOptions {
  gcsRoot: string | undefined;
  write: ObjectWriter;
  /** time in each of QUEUED and PENDING before the job runs */
  stageDelayMs: number;
}

/**
 * google.cloud.aiplatform.v1.JobService, its batch prediction part: Create / Get / List /
 * Cancel / Delete BatchPredictionJob. A job moves QUEUED -> PENDING -> RUNNING (the model is
 * loaded into the same ONNX runtime that serves online predictions, under a key of its own) ->
 * SUCCEEDED | FAILED | CANCELLED. The other JobService methods answer UNIMPLEMENTED.
 */
export function jobService(ctx: EmulatorContext, jobs: BatchJobStore, opts: JobServiceOptions) {
  const { log } = ctx;
  const timers = new Map<string, NodeJS.Timeout>();
  const running = new Map<string, Promise<void>>();
  let stopped = false;
  let chain: Promise<void> = Promise.resolve();
  const managed = () => ctx.faults.apply('management');
  const handle = <Req, Res>(method: string, fn: (req: Req) => Promise<Res>) => unary<Req, Res>(log, `JobService.${method}`, fn, managed);

  const setState = (name: string, state: JobState, extra: Partial<BatchJobRecord> = {}) =>
    jobs.mutate((all) => {
      const j = all[name];
      if (!j) return;
      const now = nowIso();
      Object.assign(j, extra, { state, updateTime: now });
      if (state === 'JOB_STATE_RUNNING') j.startTime ??= now;
      if (TERMINAL_STATES.includes(state)) j.endTime = now;
    });

  const schedule = (name: string) => {
    if (stopped) return;
    const j = jobs.jobs[name];
    if (!j || TERMINAL_STATES.includes(j.state) || running.has(name)) return;
    if (j.state === 'JOB_STATE_CANCELLING') {
      setState(name, 'JOB_STATE_CANCELLED', { error: { code: status.CANCELLED, message: 'The job was cancelled.' } });
      return;
    }
    const next = () => {
      timers.delete(name);
      const cur = jobs.jobs[name];
      if (!cur || stopped) return;
      if (cur.state === 'JOB_STATE_QUEUED') {
        setState(name, 'JOB_STATE_PENDING');
        timers.set(name, setTimeout(next, opts.stageDelayMs));
      } else if (cur.state === 'JOB_STATE_PENDING' || cur.state === 'JOB_STATE_RUNNING') {
        // One job runs at a time (each loads its own model session); the rest wait PENDING.
        const run = chain.then(() => (stopped ? undefined : execute(name)));
        chain = run.catch(() => undefined);
        running.set(
          name,
          run.finally(() => running.delete(name)),
        );
      }
    };
    timers.set(name, setTimeout(next, j.state === 'JOB_STATE_RUNNING' ? 0 : opts.stageDelayMs));
  };

  const execute = async (name: string): Promise<void> => {
    const j = jobs.jobs[name];
    if (!j || (j.state !== 'JOB_STATE_PENDING' && j.state !== 'JOB_STATE_RUNNING')) return; // cancelled while waiting
    const outputDir = parseGcsUri(j.gcsOutputDirectory!, 'gcsOutputDirectory');
    setState(name, 'JOB_STATE_RUNNING');
    const serverKey = `batch-${name.split('/').pop()}`;
    try {
      await ctx.runtime.load(serverKey, j.artifactUri);
      const server = ctx.runtime.get(serverKey)!;
      const outcome = await runBatch(j.spec, outputDir, server, {
        gcsRoot: opts.gcsRoot,
        write: opts.write,
        shouldStop: () => stopped || jobs.jobs[name]?.state === 'JOB_STATE_CANCELLING',
      });
      if (stopped && jobs.jobs[name]?.state === 'JOB_STATE_RUNNING') return; // runs again after the restart
      const completionStats = { successfulCount: outcome.successfulCount, failedCount: outcome.failedCount, incompleteCount: outcome.incompleteCount };
      const common = { completionStats, partialFailures: outcome.partialFailures };
      if (jobs.jobs[name]?.state === 'JOB_STATE_CANCELLING') {
        setState(name, 'JOB_STATE_CANCELLED', { ...common, error: { code: status.CANCELLED, message: 'The job was cancelled.' } });
      } else if (outcome.inputFiles === 0) {
        setState(name, 'JOB_STATE_FAILED', { ...common, error: { code: status.INVALID_ARGUMENT, message: `No input could be read from ${j.spec.uris.join(', ')}.` } });
      } else {
        setState(name, 'JOB_STATE_SUCCEEDED', common);
      }
      log.info('batch prediction job finished', { job: name, state: jobs.jobs[name]?.state, ...completionStats });
    } catch (err) {
      const e = err instanceof ApiError ? { code: err.code, message: err.message } : { code: status.INTERNAL, message: (err as Error).message };
      if (!(err instanceof ApiError)) log.error('batch prediction job failed', { job: name, err });
      setState(name, 'JOB_STATE_FAILED', { error: e });
    } finally {
      await ctx.runtime.unload(serverKey);
    }
  };

  const find = (name: string): BatchJobRecord => {
    const j = jobs.jobs[name];
    if (!j) throw notFound(`BatchPredictionJob ${name} was not found.`);
    return j;
  };

  const implementation: UntypedServiceImplementation = {
    CreateBatchPredictionJob: handle('CreateBatchPredictionJob', async (req: { parent: string; batchPredictionJob?: JobIn }) => {
      const loc = parseLocation(req.parent);
      const j = req.batchPredictionJob;
      if (!j) throw invalidArgument('batchPredictionJob is required.');
      if (!j.displayName) throw invalidArgument('batchPredictionJob.displayName is required.');
      if (!j.model) throw invalidArgument('batchPredictionJob.model is required: projects/P/locations/L/models/ID[@version or @alias].');
      const { model, parsed } = findModel(ctx.store.state, j.model);
      if (parsed.project !== loc.project || parsed.location !== loc.location) throw invalidArgument(`model ${j.model} is not under parent ${req.parent}.`);
      const version = resolveVersion(model, parsed.versionSpec);
      const spec = checkSpec(j);
      const createTime = nowIso();
      const name = `${locationPath(loc)}/batchPredictionJobs/${numericId()}`;
      const folder = `prediction-${version.displayName.replace(/[^A-Za-z0-9_-]/g, '_')}-${createTime.replace(/[-:.]/g, '_')}`;
      const record: BatchJobRecord = {
        name,
        displayName: j.displayName,
        model: j.model,
        modelVersionId: version.versionId,
        modelDisplayName: version.displayName,
        artifactUri: version.artifactUri,
        spec,
        request: pick(j, ['inputConfig', 'instanceConfig', 'outputConfig', 'dedicatedResources', 'modelParameters', 'serviceAccount', 'disableContainerLogging']),
        labels: j.labels ?? {},
        state: 'JOB_STATE_QUEUED',
        partialFailures: [],
        gcsOutputDirectory: `${spec.outputUriPrefix.replace(/\/+$/, '')}/${folder}`,
        createTime,
        updateTime: createTime,
      };
      jobs.mutate((all) => (all[name] = record));
      log.info('batch prediction job created', { job: name, model: j.model, modelVersionId: version.versionId });
      schedule(name);
      return view(record);
    }),

    GetBatchPredictionJob: handle('GetBatchPredictionJob', async (req: { name: string }) => view(find(req.name))),

    ListBatchPredictionJobs: handle('ListBatchPredictionJobs', async (req: { parent: string; filter?: string; pageSize?: number; pageToken?: string }) => {
      const prefix = `${locationPath(parseLocation(req.parent))}/batchPredictionJobs/`;
      const { states, rest } = splitStateTerms(req.filter);
      const matches = parseListFilter(rest);
      const all = Object.values(jobs.jobs)
        .filter((j) => j.name.startsWith(prefix) && (!states.length || states.includes(j.state)) && matches(j))
        .sort((a, b) => b.createTime.localeCompare(a.createTime));
      const { page, nextPageToken } = paginate(all, req.pageSize, req.pageToken);
      return { batchPredictionJobs: page.map(view), nextPageToken };
    }),

    CancelBatchPredictionJob: handle('CancelBatchPredictionJob', async (req: { name: string }) => {
      const j = find(req.name);
      if (TERMINAL_STATES.includes(j.state)) throw failedPrecondition(`BatchPredictionJob ${j.name} has already finished (${j.state}); only a job still running can be cancelled.`);
      if (j.state === 'JOB_STATE_QUEUED' || j.state === 'JOB_STATE_PENDING') {
        clearTimeout(timers.get(j.name));
        timers.delete(j.name);
        setState(j.name, 'JOB_STATE_CANCELLED', { error: { code: status.CANCELLED, message: 'The job was cancelled.' } });
      } else if (j.state === 'JOB_STATE_RUNNING') {
        setState(j.name, 'JOB_STATE_CANCELLING');
      }
      return {};
    }),

    DeleteBatchPredictionJob: handle('DeleteBatchPredictionJob', async (req: { name: string }) => {
      const j = find(req.name);
      if (!TERMINAL_STATES.includes(j.state)) throw failedPrecondition(`BatchPredictionJob ${j.name} is ${j.state}; cancel it and wait for it to finish before deleting it.`);
      jobs.mutate((all) => delete all[j.name]);
      return ctx.opView(finishedDeleteOperation(ctx, j.name));
    }),
  };

  return {
    implementation,
    /** Jobs left unfinished by a previous run go on: queued and pending ones where they were, running ones from the start. */
    resume() {
      for (const name of Object.keys(jobs.jobs)) schedule(name);
    },
    async stop() {
      stopped = true;
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
      await Promise.allSettled([...running.values()]);
    },
  };
}

function checkSpec(j: JobIn): BatchJobSpec {
  const input = j.inputConfig;
  if (!input?.instancesFormat) throw invalidArgument('inputConfig.instancesFormat is required.');
  if (input.instancesFormat !== 'jsonl' && input.instancesFormat !== 'file-list') {
    throw invalidArgument(`inputConfig.instancesFormat "${input.instancesFormat}" is not supported by this emulator: use jsonl or file-list.`);
  }
  const uris = input.gcsSource?.uris ?? [];
  if (!uris.length) throw invalidArgument('inputConfig.gcsSource.uris is required (this emulator reads no BigQuery source).');
  for (const u of uris) parseGcsUri(u, 'inputConfig.gcsSource.uris[]');
  const ic = j.instanceConfig ?? {};
  if (ic.includedFields?.length && ic.excludedFields?.length) throw invalidArgument('instanceConfig: set includedFields or excludedFields, not both.');
  if (input.instancesFormat === 'file-list' && (ic.keyField || ic.includedFields?.length || ic.excludedFields?.length)) {
    throw invalidArgument('instanceConfig.keyField, includedFields and excludedFields apply to jsonl objects, not to file-list input.');
  }
  if (ic.instanceType && ic.instanceType !== 'object' && ic.instanceType !== 'array') throw invalidArgument(`instanceConfig.instanceType must be "object" or "array", got "${ic.instanceType}".`);
  const out = j.outputConfig;
  if (!out?.predictionsFormat) throw invalidArgument('outputConfig.predictionsFormat is required.');
  if (out.predictionsFormat !== 'jsonl') throw invalidArgument(`outputConfig.predictionsFormat "${out.predictionsFormat}" is not supported by this emulator: use jsonl.`);
  const prefix = out.gcsDestination?.outputUriPrefix;
  if (!prefix) throw invalidArgument('outputConfig.gcsDestination.outputUriPrefix is required (this emulator writes no BigQuery output).');
  parseGcsUri(prefix.endsWith('/') ? prefix : `${prefix}/`, 'outputConfig.gcsDestination.outputUriPrefix');
  const d = j.dedicatedResources;
  if (d) {
    if (!d.machineSpec?.machineType) throw invalidArgument('dedicatedResources.machineSpec.machineType is required.');
    const start = Number(d.startingReplicaCount ?? 1);
    const max = Number(d.maxReplicaCount ?? start);
    if (start < 0 || max < 0 || (max > 0 && start > max)) throw invalidArgument(`dedicatedResources: startingReplicaCount ${start} must be at most maxReplicaCount ${max}.`);
  }
  const batchSize = Number(j.manualBatchTuningParameters?.batchSize ?? 0);
  if (!Number.isInteger(batchSize) || batchSize < 0) throw invalidArgument(`manualBatchTuningParameters.batchSize must be a positive integer, got ${batchSize}.`);
  return {
    instancesFormat: input.instancesFormat,
    uris,
    ...(ic.instanceType ? { instanceType: ic.instanceType } : {}),
    ...(ic.keyField ? { keyField: ic.keyField } : {}),
    includedFields: ic.includedFields ?? [],
    excludedFields: ic.excludedFields ?? [],
    predictionsFormat: out.predictionsFormat,
    outputUriPrefix: prefix,
    batchSize: batchSize || DEFAULT_BATCH_SIZE,
  };
}

/** A job as google.cloud.aiplatform.v1.BatchPredictionJob. */
function view(j: BatchJobRecord): Record<string, unknown> {
  return {
    name: j.name,
    displayName: j.displayName,
    model: j.model,
    modelVersionId: j.modelVersionId,
    ...j.request,
    manualBatchTuningParameters: { batchSize: j.spec.batchSize },
    ...(j.gcsOutputDirectory && j.state !== 'JOB_STATE_QUEUED' && j.state !== 'JOB_STATE_PENDING' ? { outputInfo: { gcsOutputDirectory: j.gcsOutputDirectory } } : {}),
    state: j.state,
    ...(j.error ? { error: { ...j.error, details: [] } } : {}),
    partialFailures: j.partialFailures.map((p) => ({ ...p, details: [] })),
    ...(j.completionStats ? { completionStats: j.completionStats } : {}),
    createTime: timestamp(j.createTime),
    ...(j.startTime ? { startTime: timestamp(j.startTime) } : {}),
    ...(j.endTime ? { endTime: timestamp(j.endTime) } : {}),
    updateTime: timestamp(j.updateTime),
    labels: j.labels,
  };
}

/** `state="JOB_STATE_SUCCEEDED"` terms (Vertex AI's list filter for jobs), split off from the ones parseListFilter reads. */
function splitStateTerms(filter: string | undefined): { states: string[]; rest: string } {
  const states: string[] = [];
  const rest = (filter ?? '')
    .trim()
    .split(/\s+AND\s+/)
    .filter((t) => {
      const m = /^\s*state\s*=\s*"?([A-Z_]+)"?\s*$/.exec(t);
      if (m) states.push(m[1]!);
      return !m && t.trim() !== '';
    })
    .join(' AND ');
  return { states, rest };
}

/**
 * DeleteBatchPredictionJob answers a long-running Operation. The deletion is immediate here,
 * so the operation is recorded already done (never scheduled, so it needs no executor), where
 * GetOperation and gcloud's polling find it.
 */
function finishedDeleteOperation(ctx: EmulatorContext, jobName: string): OperationRecord {
  const now = nowIso();
  const op: OperationRecord = {
    name: `${jobName}/operations/${numericId()}`,
    kind: 'deleteBatchPredictionJob' as OperationKind,
    task: {},
    metadata: { type: `${V1}.DeleteOperationMetadata`, value: { genericMetadata: { createTime: timestamp(now), updateTime: timestamp(now) } } },
    createTime: now,
    updateTime: now,
    dueAt: Date.now(),
    done: true,
    response: { type: 'google.protobuf.Empty', value: {} },
  };
  ctx.store.mutate((s) => (s.operations[op.name] = op));
  return op;
}

function pick(o: JobIn, keys: Array<keyof JobIn>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}
