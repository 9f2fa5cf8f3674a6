import type { v1 } from '@google-cloud/aiplatform';
import type { BatchJobs } from '../ports';

/** The label on every job dropship creates, naming its chunk (see chunkLabel). */
export const CHUNK_LABEL = 'dropship-chunk';

/** The JobState values after which a job writes no output (JOB_STATE_SUCCEEDED is the one that does). */
const ENDED_WITHOUT_OUTPUT = new Set(['JOB_STATE_FAILED', 'JOB_STATE_CANCELLED', 'JOB_STATE_EXPIRED']);

/** Vertex AI JobService with the official client: the BatchPredictionJob fields the batch route sets. */
export function vertexBatchJobs(
  client: InstanceType<typeof v1.JobServiceClient>,
  parent: string,
  nodes: { machineType: string; maxNodes: number } = { machineType: 'n1-standard-4', maxNodes: 4 },
): BatchJobs {
  return {
    async findByLabel(value) {
      const [jobs] = await client.listBatchPredictionJobs({ parent, filter: `labels.${CHUNK_LABEL}="${value}"` }, { autoPaginate: false });
      return jobs.find((j) => j.state !== 'JOB_STATE_FAILED' && j.state !== 'JOB_STATE_CANCELLED')?.name ?? undefined;
    },
    async create(req) {
      const [job] = await client.createBatchPredictionJob({
        parent,
        batchPredictionJob: {
          displayName: req.displayName,
          model: req.model,
          inputConfig: { instancesFormat: 'jsonl', gcsSource: { uris: [req.inputUri] } },
          instanceConfig: { keyField: req.keyField },
          outputConfig: { predictionsFormat: 'jsonl', gcsDestination: { outputUriPrefix: req.outputUriPrefix } },
          dedicatedResources: { machineSpec: { machineType: nodes.machineType }, startingReplicaCount: 1, maxReplicaCount: nodes.maxNodes },
          manualBatchTuningParameters: { batchSize: req.batchSize },
          labels: { [CHUNK_LABEL]: req.label },
        },
      });
      return job.name!;
    },
    async get(name) {
      const [job] = await client.getBatchPredictionJob({ name });
      const state = String(job.state);
      return {
        phase: state === 'JOB_STATE_SUCCEEDED' ? 'succeeded' : ENDED_WITHOUT_OUTPUT.has(state) ? 'failed' : 'running',
        state: state.replace(/^JOB_STATE_/, ''),
        ...(job.error?.message ? { error: job.error.message } : {}),
        ...(job.outputInfo?.gcsOutputDirectory ? { outputDirectory: job.outputInfo.gcsOutputDirectory } : {}),
      };
    },
  };
}
