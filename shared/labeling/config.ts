import { z } from 'zod';
import { googleConfigSchema } from '#shared/config/google-config';

/**
 * The settings every labeling function shares. Each function's own schema extends these in
 * functions/<name>/config.ts and is parsed once, when the function is first called.
 */

/** an integer setting with a default (environment variables arrive as text) */
export const intSetting = (def: number, min = 1) => z.coerce.number().int().min(min).default(def);

/** what every function that records results needs */
export const labelingConfigSchema = googleConfigSchema.extend({
  PREDICTION_RESULTS_TOPIC: z.string().min(1).default('prediction-results'),
  /** how long a delivery owns publishing what it created before a redelivery may take over */
  PUBLISH_LEASE_MS: intSetting(30_000),
  /** minimum interval between rollups of a job's counts into jobs/{job}.counts, per instance */
  COUNTS_ROLLUP_INTERVAL_MS: intSetting(1_000, 0),
});

/** The batch route and its cost model: intake routes jobs by them, the batch follower submits by them. */
export const batchRouteSettings = {
  /** the batch route (docs/labeling.md, "Online, batch or auto"); off: "batch" and "auto" jobs run online */
  BATCH_ROUTE: z.enum(['on', 'off']).default('on'),
  /** images per BatchPredictionJob (each chunk's image list lives on one Firestore document) */
  BATCH_CHUNK_SIZE: z.coerce.number().int().min(1).max(5000).default(1000),
  BATCH_SIZE: intSetting(64),
  BATCH_MACHINE_TYPE: z.string().min(1).default('n1-standard-4'),
  BATCH_MAX_NODES: intSetting(4),
  BATCH_STARTUP_MINUTES: z.coerce.number().positive().default(15),
  /** images a second per batch node; measure it (npm run bench) for your model */
  BATCH_IMAGES_PER_SECOND_PER_NODE: z.coerce.number().positive().default(50),
  ONLINE_MACHINE_TYPE: z.string().min(1).default('n1-standard-4'),
  ONLINE_REPLICAS: intSetting(1),
  /** images a second per online replica; `dropship loadtest` measures it */
  ONLINE_IMAGES_PER_SECOND_PER_REPLICA: z.coerce.number().positive().default(50),
};

export type LabelingConfig = z.infer<typeof labelingConfigSchema>;
