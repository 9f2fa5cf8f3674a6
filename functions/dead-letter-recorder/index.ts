import { cloudEvent, type CloudEvent } from '@google-cloud/functions-framework';
import type { MessagePublishedData } from '@google/events/cloud/pubsub/v1/MessagePublishedData';
import { parseEnv } from '#shared/config/parse-env';
import { onFirstCall } from '#shared/wiring/on-first-call';
import { createLogger } from '#shared/logging/logger';
import { firestoreModelEndpoints } from '#shared/labeling/adapters/firestore-model-endpoints';
import { gcsObjectReader } from '#shared/labeling/adapters/gcs-object-reader';
import { labelingClients, recordPorts } from '#shared/labeling/adapters/labeling-clients';
import { deadLetterConfigSchema } from './config';
import { handleDeadLetter, type DeadLetterRuntime } from './handler';

/** Config and clients, built on the first dead letter and kept for the life of the instance. */
const wire = onFirstCall((): DeadLetterRuntime => {
  const cfg = parseEnv(deadLetterConfigSchema);
  const logger = createLogger({ component: 'dead-letter-recorder' });
  const { db, pubsub, storage } = labelingClients(cfg);
  return { logger, deps: { ...recordPorts(cfg, logger, { db, pubsub }), reader: gcsObjectReader(storage), endpoints: firestoreModelEndpoints(db) } };
});

cloudEvent<MessagePublishedData>('dead-letter-recorder', (event: CloudEvent<MessagePublishedData>) => handleDeadLetter(event, wire()));
