import { cloudEvent, type CloudEvent } from '@google-cloud/functions-framework';
import { v1 } from '@google-cloud/aiplatform';
import { parseEnv } from '#shared/config/parse-env';
import { onFirstCall } from '#shared/wiring/on-first-call';
import { createLogger } from '#shared/logging/logger';
import { vertexClientOptions } from '#shared/adapters/vertex-client-options';
import { firestoreBatchChunks, firestoreBatchModels } from '#shared/labeling/adapters/firestore-batch-chunks';
import { gcsBatchFiles } from '#shared/labeling/adapters/gcs-batch-files';
import { labelingClients, recordPorts } from '#shared/labeling/adapters/labeling-clients';
import { vertexBatchJobs } from '#shared/labeling/adapters/vertex-batch-jobs';
import { batchFollowerConfigSchema } from './config';
import { batchFollowerTick, type BatchFollowerRuntime } from './handler';

/** Config and clients (the labeling ones plus Vertex AI's JobService), built on the first tick. */
const wire = onFirstCall((): BatchFollowerRuntime => {
  const cfg = parseEnv(batchFollowerConfigSchema);
  const logger = createLogger({ component: 'batch-follower' });
  const { db, pubsub, storage } = labelingClients(cfg);
  const jobs = new v1.JobServiceClient(vertexClientOptions(cfg));
  return {
    logger,
    deps: {
      ...recordPorts(cfg, logger, { db, pubsub }),
      chunks: firestoreBatchChunks(db),
      jobs: vertexBatchJobs(jobs, `projects/${cfg.GOOGLE_CLOUD_PROJECT}/locations/${cfg.VERTEX_LOCATION}`, { machineType: cfg.BATCH_MACHINE_TYPE, maxNodes: cfg.BATCH_MAX_NODES }),
      files: gcsBatchFiles(storage),
      models: firestoreBatchModels(db),
      batchSize: cfg.BATCH_SIZE,
      pageLines: cfg.BATCH_IMPORT_PAGE_LINES,
      tickBudgetMs: cfg.BATCH_TICK_BUDGET_SECONDS * 1000,
      chunkLeaseMs: cfg.BATCH_CHUNK_LEASE_SECONDS * 1000,
    },
  };
});

cloudEvent('batch-follower', (event: CloudEvent<unknown>) => batchFollowerTick(event, wire()));
