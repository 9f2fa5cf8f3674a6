import type { z } from 'zod';
import { labelingConfigSchema } from '#shared/labeling/config';

/** dead-letter-recorder's environment: only what recording results needs. */
export const deadLetterConfigSchema = labelingConfigSchema;

export type DeadLetterConfig = z.infer<typeof deadLetterConfigSchema>;
