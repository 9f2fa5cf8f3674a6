import { Firestore } from '@google-cloud/firestore';
import { PubSub } from '@google-cloud/pubsub';
import { Storage } from '@google-cloud/storage';
import { v1 } from '@google-cloud/aiplatform';
import { pubsubPublisher } from '#shared/adapters/pubsub-publisher';
import { vertexClientOptions } from '#shared/adapters/vertex-client-options';
import type { Logger } from '#shared/logging/logger';
import { firestoreLabelStore } from './adapters/firestore-label-store';
import { firestoreModelEndpoints } from './adapters/firestore-model-endpoints';
import { gcsObjectReader } from './adapters/gcs-object-reader';
import { requestPublisher, resultPublisher } from './adapters/pubsub-publishers';
import { vertexPredictor } from './adapters/vertex-predictor';
import type { DeadLetterConfig, IntakeConfig, LedgerConfig, WorkerConfig } from './config';
import type { DeadLetterDeps } from './dead-letter';
import type { IntakeDeps } from './intake';
import type { WorkerDeps } from './label-images';
import { BatcherRegistry } from './predict-batcher';
import type { LedgerDeps } from './results-ledger';
import type { RecordDeps } from './record-results';

/** Real clients for the labeling functions, built once per instance from parsed config. */
function recordDeps(cfg: IntakeConfig | WorkerConfig | DeadLetterConfig, logger: Logger, db: Firestore, pubsub: PubSub): RecordDeps {
  return {
    store: firestoreLabelStore(db),
    publisher: resultPublisher(pubsubPublisher(pubsub), cfg.PREDICTION_RESULTS_TOPIC),
    logger,
    publishLeaseMs: cfg.PUBLISH_LEASE_MS,
    rollupIntervalMs: cfg.COUNTS_ROLLUP_INTERVAL_MS,
  };
}

function clients(cfg: { GOOGLE_CLOUD_PROJECT: string }) {
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
  };
}

export function buildWorkerDeps(cfg: WorkerConfig, logger: Logger): WorkerDeps {
  const { db, pubsub, storage } = clients(cfg);
  const client = new v1.PredictionServiceClient(vertexClientOptions(cfg));
  const predictor = vertexPredictor(client, { timeoutMs: cfg.PREDICT_TIMEOUT_MS });
  return {
    ...recordDeps(cfg, logger, db, pubsub),
    reader: gcsObjectReader(storage),
    endpoints: firestoreModelEndpoints(db),
    batchers: new BatcherRegistry(predictor, {
      windowMs: cfg.PREDICT_COALESCE_MS,
      maxInFlight: cfg.PREDICT_MAX_IN_FLIGHT,
      pack: { maxInstances: cfg.PREDICT_MAX_INSTANCES, maxRequestBytes: cfg.PREDICT_MAX_REQUEST_BYTES },
      backoff: { initialDelayMs: cfg.PREDICT_BACKOFF_INITIAL_MS, maxDelayMs: cfg.PREDICT_BACKOFF_MAX_MS, multiplier: 2 },
      logger,
    }),
    limits: {
      maxInputBytes: cfg.MAX_IMAGE_BYTES,
      maxInputPixels: cfg.MAX_IMAGE_PIXELS,
      maxEdge: cfg.PREPARE_MAX_EDGE,
      sendAsIsMaxBytes: cfg.PREPARE_SEND_AS_IS_MAX_BYTES,
      jpegQuality: cfg.PREPARE_JPEG_QUALITY,
    },
    readConcurrency: cfg.READ_CONCURRENCY,
  };
}

export function buildDeadLetterDeps(cfg: DeadLetterConfig, logger: Logger): DeadLetterDeps {
  const { db, pubsub, storage } = clients(cfg);
  return { ...recordDeps(cfg, logger, db, pubsub), reader: gcsObjectReader(storage), endpoints: firestoreModelEndpoints(db) };
}

export function buildLedgerDeps(cfg: LedgerConfig, logger: Logger): LedgerDeps {
  return { store: firestoreLabelStore(new Firestore({ projectId: cfg.GOOGLE_CLOUD_PROJECT })), logger };
}
