import { cloudEvent, type CloudEvent } from '@google-cloud/functions-framework';
import type { MessagePublishedData } from '@google/events/cloud/pubsub/v1/MessagePublishedData';
import { Firestore } from '@google-cloud/firestore';
import { parseEnv } from '#shared/config/parse-env';
import { onFirstCall } from '#shared/wiring/on-first-call';
import { createLogger } from '#shared/logging/logger';
import { firestoreLabelStore } from '#shared/labeling/adapters/firestore-label-store';
import type { LedgerDeps } from '#shared/labeling/results-ledger';
import { ledgerConfigSchema } from './config';
import { handleResultMessage } from './handler';

/** Config and the Firestore client (all the ledger needs), built on the first message. */
const wire = onFirstCall((): LedgerDeps => {
  const cfg = parseEnv(ledgerConfigSchema);
  return { store: firestoreLabelStore(new Firestore({ projectId: cfg.GOOGLE_CLOUD_PROJECT })), logger: createLogger({ component: 'results-ledger' }) };
});

cloudEvent<MessagePublishedData>('results-ledger', (event: CloudEvent<MessagePublishedData>) => handleResultMessage(event, wire()));
