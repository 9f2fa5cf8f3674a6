import { v1 } from '@google-cloud/aiplatform';
import { vertexClientOptions } from '#shared/adapters/vertex-client-options';
import type { Logger } from '#shared/logging/logger';
import { firestoreBatchChunks, firestoreBatchModels } from './adapters/firestore-batch-chunks';
import { gcsBatchFiles } from './adapters/gcs-batch-files';
import { vertexBatchJobs } from './adapters/vertex-batch-jobs';
import type { BatchImportDeps } from './batch-import';
import type { BatchFollowerConfig } from './config';
import { clients, recordDeps } from './wiring';

/** The batch follower's real clients: the labeling ones plus Vertex AI's JobService. */
export function buildBatchFollowerDeps(cfg: BatchFollowerConfig, logger: Logger): BatchImportDeps {
  const { db, pubsub, storage } = clients(cfg);
  const client = new v1.JobServiceClient(vertexClientOptions(cfg));
  return {
    ...recordDeps(cfg, logger, db, pubsub),
    chunks: firestoreBatchChunks(db),
    jobs: vertexBatchJobs(client, `projects/${cfg.GOOGLE_CLOUD_PROJECT}/locations/${cfg.VERTEX_LOCATION}`, { machineType: cfg.BATCH_MACHINE_TYPE, maxNodes: cfg.BATCH_MAX_NODES }),
    files: gcsBatchFiles(storage),
    models: firestoreBatchModels(db),
    batchSize: cfg.BATCH_SIZE,
    pageLines: cfg.BATCH_IMPORT_PAGE_LINES,
  };
}
