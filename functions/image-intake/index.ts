import { cloudEvent, type CloudEvent } from '@google-cloud/functions-framework';
import type { StorageObjectData } from '@google/events/cloud/storage/v1/StorageObjectData';
import { parseEnv } from '#shared/config/parse-env';
import { onFirstCall } from '#shared/wiring/on-first-call';
import { createLogger } from '#shared/logging/logger';
import { pubsubPublisher } from '#shared/adapters/pubsub-publisher';
import { firestoreBatchChunks, firestoreJobRoute } from '#shared/labeling/adapters/firestore-batch-chunks';
import { firestoreLabelStore } from '#shared/labeling/adapters/firestore-label-store';
import { firestoreManifestCheckpoints } from '#shared/labeling/adapters/firestore-manifest-checkpoints';
import { gcsBatchFiles } from '#shared/labeling/adapters/gcs-batch-files';
import { gcsObjectReader } from '#shared/labeling/adapters/gcs-object-reader';
import { labelingClients, recordPorts } from '#shared/labeling/adapters/labeling-clients';
import { requestPublisher } from '#shared/labeling/adapters/pubsub-publishers';
import { sharpImageCodec } from '#shared/labeling/adapters/sharp-image-codec';
import { costInputs } from '#shared/labeling/cost/cost-inputs';
import { IMAGE_REQUEST_WINDOW_MS } from '#shared/labeling/intake';
import { JobModelCache } from '#shared/labeling/job-model-cache';
import { RequestCoalescer } from '#shared/labeling/request-coalescer';
import { intakeConfigSchema } from './config';
import { handleFinalized, type IntakeRuntime } from './handler';

/** Config and clients, built on the first event and kept for the life of the instance. */
const wire = onFirstCall((): IntakeRuntime => {
  const cfg = parseEnv(intakeConfigSchema);
  const logger = createLogger({ component: 'image-intake' });
  const { db, pubsub, storage } = labelingClients(cfg);
  const requests = requestPublisher(pubsubPublisher(pubsub), cfg.PREDICTION_REQUESTS_TOPIC);
  return {
    cfg,
    logger,
    deps: {
      ...recordPorts(cfg, logger, { db, pubsub }),
      store: firestoreLabelStore(db, Date.now, { eventWriteWindowMs: cfg.EVENT_WRITE_WINDOW_MS }),
      reader: gcsObjectReader(storage),
      requests,
      // one per instance, so the folder images of concurrent invocations share requests
      imageRequests: new RequestCoalescer(requests, { maxImages: cfg.MANIFEST_CHUNK_SIZE, windowMs: IMAGE_REQUEST_WINDOW_MS }),
      ...(cfg.JOB_MODEL_CACHE_MS > 0 ? { jobModels: new JobModelCache(cfg.JOB_MODEL_CACHE_MS) } : {}),
      defaultModel: cfg.DEFAULT_MODEL,
      manifestChunkSize: cfg.MANIFEST_CHUNK_SIZE,
      manifestMaxBytes: cfg.MANIFEST_MAX_BYTES,
      manifestCheckpoints: firestoreManifestCheckpoints(db),
      manifestCheckpointEvery: cfg.MANIFEST_CHECKPOINT_EVERY,
      manifestTimeBudgetMs: cfg.MANIFEST_TIME_BUDGET_MS,
      eventLeaseMs: cfg.EVENT_LEASE_MS,
      ...(cfg.BATCH_ROUTE === 'on'
        ? {
            batch: {
              // Images are prepared with the worker's default limits (prepareBatchJob's default).
              prepare: {
                reader: gcsObjectReader(storage),
                imageCodec: sharpImageCodec,
                chunks: firestoreBatchChunks(db),
                files: gcsBatchFiles(storage),
                chunkSize: cfg.BATCH_CHUNK_SIZE,
                readConcurrency: 8,
              },
              costInputs: (images: number, deadlineMs: number | undefined) => costInputs(cfg, images, deadlineMs),
              recordRoute: firestoreJobRoute(db),
            },
          }
        : {}),
    },
  };
});

cloudEvent<StorageObjectData>('image-intake', (event: CloudEvent<StorageObjectData>) => handleFinalized(event, wire()));
