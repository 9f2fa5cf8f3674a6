import { cloudEvent, type CloudEvent } from '@google-cloud/functions-framework';
import type { MessagePublishedData } from '@google/events/cloud/pubsub/v1/MessagePublishedData';
import { v1 } from '@google-cloud/aiplatform';
import { parseEnv } from '#shared/config/parse-env';
import { onFirstCall } from '#shared/wiring/on-first-call';
import { createLogger } from '#shared/logging/logger';
import { vertexClientOptions } from '#shared/adapters/vertex-client-options';
import { firestoreModelEndpoints } from '#shared/labeling/adapters/firestore-model-endpoints';
import { gcsObjectReader } from '#shared/labeling/adapters/gcs-object-reader';
import { labelingClients, recordPorts } from '#shared/labeling/adapters/labeling-clients';
import { sharpImageCodec } from '#shared/labeling/adapters/sharp-image-codec';
import { vertexPredictor } from '#shared/labeling/adapters/vertex-predictor';
import { BatcherRegistry } from '#shared/labeling/predict-batcher';
import { workerConfigSchema } from './config';
import { handlePredictionRequest, type WorkerRuntime } from './handler';
import { predictStats } from './predict-stats';

/**
 * Config and clients, built on the first request and kept for the life of the instance: the
 * predict batchers live here, so concurrent invocations share predict calls.
 */
const wire = onFirstCall((): WorkerRuntime => {
  const cfg = parseEnv(workerConfigSchema);
  const logger = createLogger({ component: 'predict-worker' });
  const { db, pubsub, storage } = labelingClients(cfg);
  const predictor = vertexPredictor(new v1.PredictionServiceClient(vertexClientOptions(cfg)), { timeoutMs: cfg.PREDICT_TIMEOUT_MS });
  return {
    cfg,
    logger,
    deps: {
      ...recordPorts(cfg, logger, { db, pubsub }),
      reader: gcsObjectReader(storage),
      endpoints: firestoreModelEndpoints(db),
      batchers: new BatcherRegistry(predictor, {
        windowMs: cfg.PREDICT_COALESCE_MS,
        maxInFlight: cfg.PREDICT_MAX_IN_FLIGHT,
        pack: { maxInstances: cfg.PREDICT_MAX_INSTANCES, maxRequestBytes: cfg.PREDICT_MAX_REQUEST_BYTES },
        backoff: { maxAttempts: Infinity, initialDelayMs: cfg.PREDICT_BACKOFF_INITIAL_MS, maxDelayMs: cfg.PREDICT_BACKOFF_MAX_MS }, // attempts bounded by PREDICT_RETRY_BUDGET_MS
        logger,
        stats: predictStats,
      }),
      imageCodec: sharpImageCodec,
      limits: {
        maxInputBytes: cfg.MAX_IMAGE_BYTES,
        maxInputPixels: cfg.MAX_IMAGE_PIXELS,
        maxEdge: cfg.PREPARE_MAX_EDGE,
        sendAsIsMaxBytes: cfg.PREPARE_SEND_AS_IS_MAX_BYTES,
        jpegQuality: cfg.PREPARE_JPEG_QUALITY,
      },
      readConcurrency: cfg.READ_CONCURRENCY,
    },
  };
});

cloudEvent<MessagePublishedData>('predict-worker', (event: CloudEvent<MessagePublishedData>) => handlePredictionRequest(event, wire()));
