import type { z } from 'zod';
import { batchRouteSettings, intSetting, labelingConfigSchema } from '#shared/labeling/config';

/** The batch follower's environment: submits prepared chunks, follows their jobs, imports their output. */
export const batchFollowerConfigSchema = labelingConfigSchema.extend({
  ...batchRouteSettings,
  /** output lines recorded per step of an import; the cursor is saved after each */
  BATCH_IMPORT_PAGE_LINES: intSetting(500),
});

export type BatchFollowerConfig = z.infer<typeof batchFollowerConfigSchema>;
