import type { CloudEvent } from '@google-cloud/functions-framework';
import type { MessagePublishedData } from '@google/events/cloud/pubsub/v1/MessagePublishedData';
import { decodeMessage } from '#shared/labeling/core/pubsub-message';
import { recordSeenMessage, type LedgerDeps } from '#shared/labeling/results-ledger';

/** A push delivery from the ledger's subscription of prediction-results. Throwing makes Pub/Sub redeliver. */
export async function handleResultMessage(event: CloudEvent<MessagePublishedData>, deps: LedgerDeps): Promise<void> {
  const { messageId, attributes, json } = decodeMessage(event.data, event.id);
  await recordSeenMessage({ messageId, attributes, body: json }, deps);
}
