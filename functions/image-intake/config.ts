import { z } from 'zod';
import { batchRouteSettings, intSetting, labelingConfigSchema } from '#shared/labeling/config';
import { modelNameSchema } from '#shared/labeling/core/job-spec';

/** image-intake's environment, parsed once on the first event. */
export const intakeConfigSchema = labelingConfigSchema.extend({
  IMAGES_BUCKET: z.string().min(1).optional(),
  PREDICTION_REQUESTS_TOPIC: z.string().min(1).default('prediction-requests'),
  /** the model that labels a job that names none (in its manifest or _job.json) */
  DEFAULT_MODEL: modelNameSchema.default('default'),
  /** images per prediction request from a manifest: one request is one predict batch */
  MANIFEST_CHUNK_SIZE: intSetting(32),
  /** a manifest is streamed; this bounds the set of URIs its duplicate check keeps (about 100 bytes a line) */
  MANIFEST_MAX_BYTES: intSetting(64 * 1024 * 1024),
  /**
   * how long one delivery sends a manifest's chunks before checkpointing and leaving the rest to
   * the event's redelivery: under EVENT_LEASE_MS (so no duplicate takes over a live delivery)
   * and the function's 540 s timeout, with room for the chunk in hand
   */
  MANIFEST_TIME_BUDGET_MS: intSetting(90_000),
  /** online chunks (requests) sent per checkpoint write */
  MANIFEST_CHECKPOINT_EVERY: intSetting(16),
  EVENT_LEASE_MS: intSetting(120_000),
  /** events claimed (or finished) within this many ms of each other are written in one commit; 0: one commit a write */
  EVENT_WRITE_WINDOW_MS: intSetting(10, 0),
  /** how long an instance keeps a job's model for its folder images (one read a job, not an image); 0: read per image */
  JOB_MODEL_CACHE_MS: intSetting(10_000, 0),
  /**
   * An event still failing this long after it happened is recorded as an ERROR result and
   * acknowledged, so a poison event cannot retry for Eventarc's whole day.
   */
  MAX_EVENT_AGE_MINUTES: intSetting(60),
  ...batchRouteSettings,
});

export type IntakeConfig = z.infer<typeof intakeConfigSchema>;
