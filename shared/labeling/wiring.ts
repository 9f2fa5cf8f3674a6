import { Firestore } from '@google-cloud/firestore';
import { PubSub } from '@google-cloud/pubsub';
import { Storage } from '@google-cloud/storage';
import { pubsubPublisher } from '#shared/adapters/pubsub-publisher';
import type { Logger } from '#shared/logging/logger';
import { firestoreBatchChunks, firestoreJobRoute } from './adapters/firestore-batch-chunks';
import { gcsBatchFiles } from './adapters/gcs-batch-files';
import { firestoreLabelStore } from './adapters/firestore-label-store';
import { costInputs } from './cost/cost-inputs';
import { firestoreModelEndpoints } from './adapters/firestore-model-endpoints';
import { gcsObjectReader } from './adapters/gcs-object-reader';
import { requestPublisher, resultPublisher } from './adapters/pubsub-publishers';
import type { BatchFollowerConfig, DeadLetterConfig, IntakeConfig, WorkerConfig } from './config';
import type { DeadLetterDeps } from './dead-letter';
import type { IntakeDeps } from './intake';
import type { RecordDeps } from './record-results';

/**
 * Real clients for the labeling functions, built once per instance from parsed config. The
 * worker's (Vertex AI) and the ledger's wiring live in files of their own, so the functions
 * that need neither do not import @google-cloud/aiplatform (about 100 MB installed, seconds
 * to require) into their bundles.
 */
export function recordDeps(cfg: IntakeConfig | WorkerConfig | DeadLetterConfig | BatchFollowerConfig, logger: Logger, db: Firestore, pubsub: PubSub): RecordDeps {
  return {
    store: firestoreLabelStore(db),
    publisher: resultPublisher(pubsubPublisher(pubsub), cfg.PREDICTION_RESULTS_TOPIC),
    logger,
    publishLeaseMs: cfg.PUBLISH_LEASE_MS,
    rollupIntervalMs: cfg.COUNTS_ROLLUP_INTERVAL_MS,
  };
}

export function clients(cfg: { GOOGLE_CLOUD_PROJECT: string }) {
  const projectId = cfg.GOOGLE_CLOUD_PROJECT;
  // STORAGE_EMULATOR_HOST / FIRESTORE_EMULATOR_HOST / PUBSUB_EMULATOR_HOST redirect these locally.
  return { db: new Firestore({ projectId }), pubsub: new PubSub({ projectId }), storage: new Storage({ projectId }) };
}

export function buildIntakeDeps(cfg: IntakeConfig, logger: Logger): IntakeDeps {
  const { db, pubsub, storage } = clients(cfg);
  return {
    ...recordDeps(cfg, logger, db, pubsub),
    reader: gcsObjectReader(storage),
    requests: requestPublisher(pubsubPublisher(pubsub), cfg.PREDICTION_REQUESTS_TOPIC),
    defaultModel: cfg.DEFAULT_MODEL,
    manifestChunkSize: cfg.MANIFEST_CHUNK_SIZE,
    manifestMaxBytes: cfg.MANIFEST_MAX_BYTES,
    eventLeaseMs: cfg.EVENT_LEASE_MS,
    ...(cfg.BATCH_ROUTE === 'on'
      ? {
          batch: {
            // Images are prepared with the worker's default limits (prepareBatchJob's default).
            prepare: { reader: gcsObjectReader(storage), chunks: firestoreBatchChunks(db), files: gcsBatchFiles(storage), chunkSize: cfg.BATCH_CHUNK_SIZE, readConcurrency: 8 },
            costInputs: (images: number, deadlineMs: number | undefined) => costInputs(cfg, images, deadlineMs),
            recordRoute: firestoreJobRoute(db),
          },
        }
      : {}),
  };
}

export function buildDeadLetterDeps(cfg: DeadLetterConfig, logger: Logger): DeadLetterDeps {
  const { db, pubsub, storage } = clients(cfg);
  return { ...recordDeps(cfg, logger, db, pubsub), reader: gcsObjectReader(storage), endpoints: firestoreModelEndpoints(db) };
}
