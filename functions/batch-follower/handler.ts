import type { CloudEvent } from '@google-cloud/functions-framework';
import { parseEnv } from '#shared/config/parse-env';
import { createLogger, type Logger } from '#shared/logging/logger';
import { followBatches, type BatchImportDeps } from '#shared/labeling/batch-import';
import { buildBatchFollowerDeps } from '#shared/labeling/batch-wiring';
import { batchFollowerConfigSchema } from '#shared/labeling/config';

let runtime: { logger: Logger; deps: BatchImportDeps } | undefined;

/**
 * A scheduler tick on reconcile-ticks (its own subscription, beside the reconciler's): submits
 * the BatchPredictionJobs of prepared chunks, follows the submitted ones, imports what
 * finished. A failure throws, and the tick is redelivered; the work resumes from each chunk's
 * saved cursor, so nothing is recorded or published twice.
 */
export async function batchFollowerTick(event: CloudEvent<unknown>): Promise<void> {
  if (!runtime) {
    const cfg = parseEnv(batchFollowerConfigSchema);
    const logger = createLogger({ component: 'batch-follower' });
    runtime = { logger, deps: buildBatchFollowerDeps(cfg, logger) };
  }
  const summary = await followBatches(runtime.deps);
  (summary.followed === 0 ? runtime.logger.debug : runtime.logger.info)('batch follower tick', { eventId: event.id, ...summary });
}
