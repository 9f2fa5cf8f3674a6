import { TransientError } from '#shared/errors';
import { LOG_EVENTS } from '#shared/logging/log-events';
import type { Logger } from '#shared/logging/logger';
import { systemClock, waitUntilDone, type Clock } from '#shared/time/wait-until';
import type { ClaimOutcome, LabelStore, ResultPublisher } from './ports';
import type { LabelResult } from './result';

export interface RecordDeps {
  store: LabelStore;
  publisher: ResultPublisher;
  logger: Logger;
  /** how long a writer owns publishing what it created before a redelivery may take over */
  publishLeaseMs: number;
  /** minimum interval between job-doc count rollups from one instance */
  rollupIntervalMs: number;
  /**
   * when this instance last rolled each job's counts up (the wiring keeps one per instance, so
   * the interval holds across invocations); absent: no memory, every update rolls up
   */
  lastRollup?: Map<string, number>;
  /** default: the system clock */
  clock?: Clock;
}

/** how often a delivery looks again at results another live delivery is publishing */
export const BUSY_POLL_MS = 200;

/**
 * Stores results exactly once and publishes each exactly once: only the delivery that created
 * a result publishes it, then flags it; a delivery that finds an unflagged result whose
 * publisher's lease ran out (it crashed in between) publishes it instead. A result another
 * delivery is publishing right now (a duplicate delivery running beside this one) is waited
 * for, polling, until it is flagged or its lease runs out and this delivery takes it over:
 * acknowledging before it is flagged could lose the message if the other one crashed, and
 * failing would cost a redelivery with backoff for nothing.
 */
export async function recordAndPublish(deps: RecordDeps, job: string, results: readonly LabelResult[]): Promise<void> {
  const clock = deps.clock ?? systemClock;
  let pending: readonly LabelResult[] = results;
  let busy = new Set<string>();
  const done = await waitUntilDone(
    async () => {
      if (busy.size > 0) {
        const published = await deps.store.publishedResultIds(job, [...busy]);
        pending = pending.filter((r) => busy.has(r.id) && !published.has(r.id));
      }
      if (pending.length === 0) return true;
      busy = new Set(await recordOnce(deps, job, pending));
      return busy.size === 0;
    },
    { until: clock.now() + publishWaitMs(deps), intervalMs: BUSY_POLL_MS, clock },
  );
  if (!done) throw new TransientError(`${busy.size} result(s) of job ${job} are still being published by another delivery; retrying later`);
  await updateProgress(deps, job);
}

/** How long a delivery waits for a live duplicate's publishing: its lease, and a few polls more. */
const publishWaitMs = (deps: RecordDeps) => deps.publishLeaseMs + 10 * BUSY_POLL_MS;

/** One pass: creates what is missing, publishes what this delivery owns; returns the ids others own. */
async function recordOnce(deps: RecordDeps, job: string, results: readonly LabelResult[]): Promise<string[]> {
  const { toPublish, created, busy } = await deps.store.recordResults(job, results, deps.publishLeaseMs);
  // Counted where it is created: a redelivery or a publish takeover creates nothing, so counts nothing.
  for (const r of created) logRecorded(deps.logger, r);
  const sent = await Promise.allSettled(toPublish.map((r) => deps.publisher.publishResult(r)));
  const published = toPublish.filter((_, i) => sent[i]!.status === 'fulfilled').map((r) => r.id);
  const failed = toPublish.filter((_, i) => sent[i]!.status === 'rejected').map((r) => r.id);
  if (published.length > 0) await deps.store.markPublished(job, published);
  if (failed.length > 0) {
    await deps.store.releasePublishLeases(job, failed).catch(() => undefined);
    throw new TransientError(`publishing ${failed.length} result(s) of job ${job} failed`, { cause: (sent.find((s) => s.status === 'rejected') as PromiseRejectedResult).reason });
  }
  return busy;
}

/** The `result-recorded` line the "results by status" metric counts (LOG_EVENTS). */
function logRecorded(logger: Logger, r: LabelResult): void {
  const fields = { job: r.job, status: r.status, resultId: r.id, imageUri: r.imageUri };
  if (r.status === 'OK') logger.event(LOG_EVENTS.resultRecorded, 'INFO', 'result recorded', { ...fields, label: r.label });
  else logger.event(LOG_EVENTS.resultRecorded, 'ERROR', 'image recorded as ERROR', { ...fields, reason: r.reason, error: r.error });
}

/** Rolls the counters up into jobs/{job} and, when a manifest job's last result is in, announces it once. */
export async function updateProgress(deps: RecordDeps, job: string): Promise<void> {
  const doc = await deps.store.getJob(job);
  if (!doc) return;
  const progress = await deps.store.progress(job);
  const clock = deps.clock ?? systemClock;
  const now = clock.now();
  const complete = doc.total !== undefined && progress.ok + progress.error >= doc.total;
  if (!complete) {
    if (now - (deps.lastRollup?.get(job) ?? 0) >= deps.rollupIntervalMs) {
      deps.lastRollup?.set(job, now);
      await deps.store.rollupCounts(job, progress);
    }
    return;
  }
  // As with results: wait for a live duplicate to announce it rather than fail this delivery.
  let claim = 'busy' as ClaimOutcome; // set by the check below
  await waitUntilDone(
    async () => {
      claim = await deps.store.claimCompletion(job, progress, deps.publishLeaseMs);
      return claim !== 'busy';
    },
    { until: now + publishWaitMs(deps), intervalMs: BUSY_POLL_MS, clock },
  );
  if (claim === 'done') return;
  if (claim === 'busy') throw new TransientError(`the job-completed message of ${job} is still being published by another delivery; retrying later`);
  await deps.publisher.publishJobCompleted(doc, progress);
  await deps.store.finishCompletion(job, progress);
  deps.logger.notice('job completed', { job, total: doc.total, ...progress });
}
