import type { CloudEvent } from '@google-cloud/functions-framework';
import type { MessagePublishedData } from '@google/events/cloud/pubsub/v1/MessagePublishedData';
import { parseEnv } from '#shared/config/parse-env';
import { createLogger, type Logger } from '#shared/logging/logger';
import { ledgerConfigSchema } from '#shared/labeling/config';
import { messageFromEvent } from '#shared/labeling/pubsub-event';
import { recordSeenMessage, type LedgerDeps } from '#shared/labeling/results-ledger';
import { buildLedgerDeps } from '#shared/labeling/ledger-wiring';

let runtime: { logger: Logger; deps: LedgerDeps } | undefined;

function ledgerRuntime() {
  if (!runtime) {
    const cfg = parseEnv(ledgerConfigSchema);
    const logger = createLogger({ component: 'results-ledger' });
    runtime = { logger, deps: buildLedgerDeps(cfg, logger) };
  }
  return runtime;
}

/** A push delivery from the ledger's subscription of prediction-results. Throwing makes Pub/Sub redeliver. */
export async function handleResultMessage(event: CloudEvent<MessagePublishedData>): Promise<void> {
  const { deps } = ledgerRuntime();
  const { messageId, attributes, json } = messageFromEvent(event);
  await recordSeenMessage({ messageId, attributes, body: json }, deps);
}
