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
  MANIFEST_MAX_BYTES: intSetting(64 * 1024 * 1024),
  EVENT_LEASE_MS: intSetting(120_000),
  /**
   * An event still failing this long after it happened is recorded as an ERROR result and
   * acknowledged, so a poison event cannot retry for Eventarc's whole day.
   */
  MAX_EVENT_AGE_MINUTES: intSetting(60),
  ...batchRouteSettings,
});

export type IntakeConfig = z.infer<typeof intakeConfigSchema>;
