import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Batch prediction jobs, kept in a JSON file of their own beside the emulator's main state
 * (vertex-batch-jobs.json), rewritten atomically after every change, so a job survives a
 * restart: one still queued, pending or running starts over when the emulator comes back (its
 * output folder is fixed when the job starts, so the rerun overwrites the same files), a
 * cancelling one ends cancelled. Request parts the emulator only keeps and returns are stored in
 * @grpc/proto-loader's object form.
 */
export type JobState = 'JOB_STATE_QUEUED' | 'JOB_STATE_PENDING' | 'JOB_STATE_RUNNING' | 'JOB_STATE_SUCCEEDED' | 'JOB_STATE_FAILED' | 'JOB_STATE_CANCELLING' | 'JOB_STATE_CANCELLED';

export const TERMINAL_STATES: readonly JobState[] = ['JOB_STATE_SUCCEEDED', 'JOB_STATE_FAILED', 'JOB_STATE_CANCELLED'];

export interface RpcStatus {
  code: number;
  message: string;
}

export interface BatchJobSpec {
  instancesFormat: 'jsonl' | 'file-list';
  uris: string[];
  instanceType?: string;
  keyField?: string;
  includedFields: string[];
  excludedFields: string[];
  predictionsFormat: string;
  outputUriPrefix: string;
  batchSize: number;
}

export interface BatchJobRecord {
  /** projects/P/locations/L/batchPredictionJobs/ID */
  name: string;
  displayName: string;
  /** the model as the request named it (with @version or @alias if it had one) */
  model: string;
  modelVersionId: string;
  modelDisplayName: string;
  artifactUri: string;
  spec: BatchJobSpec;
  /** the request's parts kept as given, returned as they came */
  request: Record<string, unknown>;
  labels: Record<string, string>;
  state: JobState;
  error?: RpcStatus;
  partialFailures: RpcStatus[];
  completionStats?: { successfulCount: number; failedCount: number; incompleteCount: number };
  /** gs://... fixed when the job first runs */
  gcsOutputDirectory?: string;
  createTime: string;
  startTime?: string;
  endTime?: string;
  updateTime: string;
}

const FILE = 'vertex-batch-jobs.json';

export class BatchJobStore {
  readonly jobs: Record<string, BatchJobRecord>;
  private readonly file: string;

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    this.file = join(dataDir, FILE);
    this.jobs = read(this.file);
  }

  mutate<T>(change: (jobs: Record<string, BatchJobRecord>) => T): T {
    const result = change(this.jobs);
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.jobs, null, 1));
    renameSync(tmp, this.file);
    return result;
  }
}

function read(file: string): Record<string, BatchJobRecord> {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, BatchJobRecord>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
}
