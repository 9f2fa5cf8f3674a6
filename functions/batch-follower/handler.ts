import type { CloudEvent } from '@google-cloud/functions-framework';
import type { Logger } from '#shared/logging/logger';
import { followBatches, type BatchImportDeps } from '#shared/labeling/batch-import';

export interface BatchFollowerRuntime {
  logger: Logger;
  deps: BatchImportDeps;
}

/**
 * A scheduler tick on reconcile-ticks (its own subscription, beside the reconciler's): submits
 * the BatchPredictionJobs of prepared chunks, follows the submitted ones, imports what
 * finished. A failure throws, and the tick is redelivered; the work resumes from each chunk's
 * saved cursor, so nothing is recorded or published twice.
 */
export async function batchFollowerTick(event: CloudEvent<unknown>, { logger, deps }: BatchFollowerRuntime): Promise<void> {
  const summary = await followBatches(deps);
  (summary.followed === 0 ? logger.debug : logger.info)('batch follower tick', { eventId: event.id, ...summary });
}
