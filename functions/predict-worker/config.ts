import { z } from 'zod';
import { intSetting, labelingConfigSchema } from '#shared/labeling/config';

/** predict-worker's environment, parsed once on the first request. */
export const workerConfigSchema = labelingConfigSchema.extend({
  /** instances per predict call at most */
  PREDICT_MAX_INSTANCES: intSetting(32),
  /** request payload per predict call at most (Vertex AI's limit is 1.5 MB) */
  PREDICT_MAX_REQUEST_BYTES: intSetting(1_450_000, 4096),
  /**
   * how long an image waits for others to share its predict call when a call slot is free
   * (under load, images queue behind the calls in flight anyway). Deliveries come back to the
   * worker in waves spread over 100-200 ms (each records its result first), so 25 ms split a
   * wave over several calls: 0.09-0.15 calls per image on 300 digits, 0.06 at 250 ms.
   */
  PREDICT_COALESCE_MS: intSetting(200, 0),
  /** predict calls in flight per endpoint and instance; more images queue and share the next call */
  PREDICT_MAX_IN_FLIGHT: intSetting(2),
  /** time an invocation spends retrying refused predict calls before Pub/Sub redelivers */
  PREDICT_RETRY_BUDGET_MS: intSetting(120_000),
  PREDICT_BACKOFF_INITIAL_MS: intSetting(200),
  PREDICT_BACKOFF_MAX_MS: intSetting(10_000),
  PREDICT_TIMEOUT_MS: intSetting(60_000),
  MAX_IMAGE_BYTES: intSetting(32 * 1024 * 1024),
  MAX_IMAGE_PIXELS: intSetting(100_000_000),
  /** longest edge of a converted image (see docs/labeling.md for the measured agreement) */
  PREPARE_MAX_EDGE: intSetting(512, 16),
  /** JPEGs up to this size (within the edge limit, upright) are sent exactly as they came */
  PREPARE_SEND_AS_IS_MAX_BYTES: intSetting(256 * 1024, 0),
  PREPARE_JPEG_QUALITY: intSetting(92),
  READ_CONCURRENCY: intSetting(8),
});

export type WorkerConfig = z.infer<typeof workerConfigSchema>;
