import { z } from 'zod';
import { googleConfigSchema } from '#shared/config/google-config';
import { modelNameSchema } from './core/job-spec';

const int = (def: number, min = 1) => z.coerce.number().int().min(min).default(def);

const common = googleConfigSchema.extend({
  PREDICTION_RESULTS_TOPIC: z.string().min(1).default('prediction-results'),
  /** how long a delivery owns publishing what it created before a redelivery may take over */
  PUBLISH_LEASE_MS: int(30_000),
  /** minimum interval between rollups of a job's counts into jobs/{job}.counts, per instance */
  COUNTS_ROLLUP_INTERVAL_MS: int(1_000, 0),
});

/** The batch route and its cost model: intake routes jobs by them, the batch follower submits by them. */
const batchRouteSettings = {
  /** the batch route (docs/labeling.md, "Online, batch or auto"); off: "batch" and "auto" jobs run online */
  BATCH_ROUTE: z.enum(['on', 'off']).default('on'),
  /** images per BatchPredictionJob (each chunk's image list lives on one Firestore document) */
  BATCH_CHUNK_SIZE: z.coerce.number().int().min(1).max(5000).default(1000),
  BATCH_SIZE: int(64),
  BATCH_MACHINE_TYPE: z.string().min(1).default('n1-standard-4'),
  BATCH_MAX_NODES: int(4),
  BATCH_STARTUP_MINUTES: z.coerce.number().positive().default(15),
  /** images a second per batch node; measure it (npm run bench) for your model */
  BATCH_IMAGES_PER_SECOND_PER_NODE: z.coerce.number().positive().default(50),
  ONLINE_MACHINE_TYPE: z.string().min(1).default('n1-standard-4'),
  ONLINE_REPLICAS: int(1),
  /** images a second per online replica; `dropship loadtest` measures it */
  ONLINE_IMAGES_PER_SECOND_PER_REPLICA: z.coerce.number().positive().default(50),
};

export const intakeConfigSchema = common.extend({
  IMAGES_BUCKET: z.string().min(1).optional(),
  PREDICTION_REQUESTS_TOPIC: z.string().min(1).default('prediction-requests'),
  /** the model that labels a job that names none (in its manifest or _job.json) */
  DEFAULT_MODEL: modelNameSchema.default('default'),
  /** images per prediction request from a manifest: one request is one predict batch */
  MANIFEST_CHUNK_SIZE: int(32),
  MANIFEST_MAX_BYTES: int(64 * 1024 * 1024),
  EVENT_LEASE_MS: int(120_000),
  /**
   * An event still failing this long after it happened is recorded as an ERROR result and
   * acknowledged, so a poison event cannot retry for Eventarc's whole day.
   */
  MAX_EVENT_AGE_MINUTES: int(60),
  ...batchRouteSettings,
});

export const workerConfigSchema = common.extend({
  /** instances per predict call at most */
  PREDICT_MAX_INSTANCES: int(32),
  /** request payload per predict call at most (Vertex AI's limit is 1.5 MB) */
  PREDICT_MAX_REQUEST_BYTES: int(1_450_000, 4096),
  /**
   * how long an image waits for others to share its predict call when a call slot is free
   * (under load, images queue behind the calls in flight anyway). Deliveries come back to the
   * worker in waves spread over 100-200 ms (each records its result first), so 25 ms split a
   * wave over several calls: 0.09-0.15 calls per image on 300 digits, 0.06 at 250 ms.
   */
  PREDICT_COALESCE_MS: int(200, 0),
  /** predict calls in flight per endpoint and instance; more images queue and share the next call */
  PREDICT_MAX_IN_FLIGHT: int(2),
  /** time an invocation spends retrying refused predict calls before Pub/Sub redelivers */
  PREDICT_RETRY_BUDGET_MS: int(120_000),
  PREDICT_BACKOFF_INITIAL_MS: int(200),
  PREDICT_BACKOFF_MAX_MS: int(10_000),
  PREDICT_TIMEOUT_MS: int(60_000),
  MAX_IMAGE_BYTES: int(32 * 1024 * 1024),
  MAX_IMAGE_PIXELS: int(100_000_000),
  /** longest edge of a converted image (see docs/labeling.md for the measured agreement) */
  PREPARE_MAX_EDGE: int(512, 16),
  /** JPEGs up to this size (within the edge limit, upright) are sent exactly as they came */
  PREPARE_SEND_AS_IS_MAX_BYTES: int(256 * 1024, 0),
  PREPARE_JPEG_QUALITY: int(92),
  READ_CONCURRENCY: int(8),
});

/** The batch follower: submits prepared chunks, follows their jobs, imports their output. */
export const batchFollowerConfigSchema = common.extend({
  ...batchRouteSettings,
  /** output lines recorded per step of an import; the cursor is saved after each */
  BATCH_IMPORT_PAGE_LINES: int(500),
});

export const deadLetterConfigSchema = common;
export const ledgerConfigSchema = googleConfigSchema;

export type IntakeConfig = z.infer<typeof intakeConfigSchema>;
export type WorkerConfig = z.infer<typeof workerConfigSchema>;
export type DeadLetterConfig = z.infer<typeof deadLetterConfigSchema>;
export type BatchFollowerConfig = z.infer<typeof batchFollowerConfigSchema>;
export type LedgerConfig = z.infer<typeof ledgerConfigSchema>;
