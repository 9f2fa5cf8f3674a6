import { z } from 'zod';
import { googleConfigSchema } from '#shared/config/google-config';

/** The reconciler's environment, parsed once on the first tick. */
export const reconcilerConfigSchema = googleConfigSchema.extend({
  MODEL_EVENTS_TOPIC: z.string().min(1, 'the model-events topic name'),
  /** an in-progress version that has not moved for this long ends FAILED (deploys can take hours) */
  STUCK_AFTER_MINUTES: z.coerce.number().min(1).default(720),
  LEASE_SECONDS: z.coerce.number().int().min(5).max(3600).default(240),
});

export type ReconcilerConfig = z.infer<typeof reconcilerConfigSchema>;
