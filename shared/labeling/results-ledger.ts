import type { Logger } from '#shared/logging/logger';
import type { LabelStore } from './ports';

export interface LedgerDeps {
  store: Pick<LabelStore, 'confirmPublished' | 'confirmCompletion'>;
  logger: Logger;
}

/** A message as the ledger's subscription delivers it from prediction-results. */
export interface SeenMessage {
  messageId: string;
  attributes: Record<string, string>;
  /** the decoded JSON body, when it is JSON */
  body: unknown;
}

export type LedgerOutcome = 'confirmed' | 'unknown-result' | 'completion-confirmed' | 'ignored';

/**
 * The results ledger: every message on prediction-results is flagged published where the
 * pipeline keeps its state, by a subscriber of the topic itself. A worker that dies after
 * publishing a result but before flagging it leaves the flag to the ledger, so the redelivery
 * that takes the result over after its publish lease finds it published and does not send it
 * again. Only a ledger more than a lease (PUBLISH_LEASE_MS, 30 s) behind the topic lets that
 * copy through. Idempotent: a message seen twice flags twice.
 */
export async function recordSeenMessage(msg: SeenMessage, deps: LedgerDeps): Promise<LedgerOutcome> {
  const { type, job, resultId } = msg.attributes;
  if (type === 'result' && job && resultId) {
    const outcome = await deps.store.confirmPublished(job, resultId);
    if (outcome === 'unknown') {
      deps.logger.warn('a result message for a result this pipeline does not hold', { messageId: msg.messageId, job, resultId });
      return 'unknown-result';
    }
    return 'confirmed';
  }
  if (type === 'job-completed' && job) {
    const body = msg.body as { ok?: unknown; error?: unknown } | undefined;
    if (typeof body?.ok === 'number' && typeof body.error === 'number') {
      if ((await deps.store.confirmCompletion(job, { ok: body.ok, error: body.error })) === 'confirmed') return 'completion-confirmed';
      deps.logger.warn('a job-completed message for a job this pipeline does not hold', { messageId: msg.messageId, job });
      return 'unknown-result';
    }
  }
  deps.logger.debug('message not from the labeling pipeline ignored', { messageId: msg.messageId, type });
  return 'ignored';
}
