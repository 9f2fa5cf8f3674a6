import { v1 } from '@google-cloud/aiplatform';
import { vertexClientOptions } from '#shared/adapters/vertex-client-options';
import type { Logger } from '#shared/logging/logger';
import { firestoreModelEndpoints } from './adapters/firestore-model-endpoints';
import { gcsObjectReader } from './adapters/gcs-object-reader';
import { vertexPredictor } from './adapters/vertex-predictor';
import type { WorkerConfig } from './config';
import type { WorkerDeps } from './label-images';
import { BatcherRegistry } from './predict-batcher';
import { clients, recordDeps } from './wiring';

/** The predict worker's real clients: the labeling ones plus Vertex AI's PredictionService. */
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
      backoff: { maxAttempts: Infinity, initialDelayMs: cfg.PREDICT_BACKOFF_INITIAL_MS, maxDelayMs: cfg.PREDICT_BACKOFF_MAX_MS }, // attempts bounded by PREDICT_RETRY_BUDGET_MS
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
