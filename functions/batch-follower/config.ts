import type { z } from 'zod';
import { batchRouteSettings, intSetting, labelingConfigSchema } from '#shared/labeling/config';

/** The batch follower's environment: submits prepared chunks, follows their jobs, imports their output. */
export const batchFollowerConfigSchema = labelingConfigSchema.extend({
  ...batchRouteSettings,
  /** output lines recorded per step of an import; the cursor is saved after each */
  BATCH_IMPORT_PAGE_LINES: intSetting(500),
  /** how long one tick takes up chunks and pages (the function's timeout is 540 s) */
  BATCH_TICK_BUDGET_SECONDS: intSetting(240),
  /** a tick's lease on the chunk it works, renewed with every page; a crashed tick's chunk waits this long */
  BATCH_CHUNK_LEASE_SECONDS: intSetting(120),
});

export type BatchFollowerConfig = z.infer<typeof batchFollowerConfigSchema>;
