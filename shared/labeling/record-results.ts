import { TransientError } from '#shared/errors';
import type { Logger } from '#shared/logging/logger';
import type { LabelStore, ResultPublisher } from './ports';
import type { LabelResult } from './result';

export interface RecordDeps {
  store: LabelStore;
  publisher: ResultPublisher;
  logger: Logger;
  /** how long a writer owns publishing what it created before a redelivery may take over */
  publishLeaseMs: number;
  /** minimum interval between job-doc count rollups from one instance */
  rollupIntervalMs: number;
}

const lastRollup = new Map<string, number>();

/**
 * Stores results exactly once and publishes each exactly once: only the delivery that created
 * a result publishes it, then flags it; a delivery that finds an unflagged result whose
 * publisher's lease ran out (it crashed in between) publishes it instead. A result another
 * delivery is still publishing makes this one retry later rather than risk losing the message.
 */
export async function recordAndPublish(deps: RecordDeps, job: string, results: readonly LabelResult[]): Promise<void> {
  if (results.length > 0) {
    const { toPublish, busy } = await deps.store.recordResults(job, results, deps.publishLeaseMs);
    const sent = await Promise.allSettled(toPublish.map((r) => deps.publisher.publishResult(r)));
    const published = toPublish.filter((_, i) => sent[i]!.status === 'fulfilled').map((r) => r.id);
    const failed = toPublish.filter((_, i) => sent[i]!.status === 'rejected').map((r) => r.id);
    if (published.length > 0) await deps.store.markPublished(job, published);
    if (failed.length > 0) {
      await deps.store.releasePublishLeases(job, failed).catch(() => undefined);
      throw new TransientError(`publishing ${failed.length} result(s) of job ${job} failed`, { cause: (sent.find((s) => s.status === 'rejected') as PromiseRejectedResult).reason });
    }
    for (const r of toPublish) {
      if (r.status === 'ERROR') deps.logger.error('image recorded as ERROR', { job, resultId: r.id, imageUri: r.imageUri, reason: r.reason, error: r.error });
    }
    if (busy > 0) throw new TransientError(`${busy} result(s) of job ${job} are being published by another delivery; retrying later`);
  }
  await updateProgress(deps, job);
}

/** Rolls the counters up into jobs/{job} and, when a manifest job's last result is in, announces it once. */
export async function updateProgress(deps: RecordDeps, job: string): Promise<void> {
  const doc = await deps.store.getJob(job);
  if (!doc) return;
  const progress = await deps.store.progress(job);
  const now = Date.now();
  const complete = doc.total !== undefined && progress.ok + progress.error >= doc.total;
  if (!complete) {
    if (now - (lastRollup.get(job) ?? 0) >= deps.rollupIntervalMs) {
      lastRollup.set(job, now);
      await deps.store.rollupCounts(job, progress);
    }
    return;
  }
  const claim = await deps.store.claimCompletion(job, progress, deps.publishLeaseMs);
  if (claim === 'done') return;
  if (claim === 'busy') throw new TransientError(`the job-completed message of ${job} is being published by another delivery; retrying later`);
  await deps.publisher.publishJobCompleted(doc, progress);
  await deps.store.finishCompletion(job, progress);
  deps.logger.notice('job completed', { job, total: doc.total, ...progress });
}
