import { Firestore } from '@google-cloud/firestore';
import { PubSub } from '@google-cloud/pubsub';
import { Storage } from '@google-cloud/storage';
import { pubsubPublisher } from '#shared/adapters/pubsub-publisher';
import type { Logger } from '#shared/logging/logger';
import type { LabelingConfig } from '../config';
import type { RecordDeps } from '../record-results';
import { firestoreLabelStore } from './firestore-label-store';
import { resultPublisher } from './pubsub-publishers';

export interface LabelingClients {
  db: Firestore;
  pubsub: PubSub;
  storage: Storage;
}

/**
 * The Google clients of a labeling function, made once per instance by the function's wiring
 * (functions/<name>/index.ts). STORAGE_EMULATOR_HOST / FIRESTORE_EMULATOR_HOST /
 * PUBSUB_EMULATOR_HOST redirect them locally.
 */
export function labelingClients(cfg: { GOOGLE_CLOUD_PROJECT: string }): LabelingClients {
  const projectId = cfg.GOOGLE_CLOUD_PROJECT;
  return { db: new Firestore({ projectId }), pubsub: new PubSub({ projectId }), storage: new Storage({ projectId }) };
}

/** The ports every use case that records results needs (recordAndPublish), over real clients. */
export function recordPorts(cfg: LabelingConfig, logger: Logger, clients: Pick<LabelingClients, 'db' | 'pubsub'>): RecordDeps {
  return {
    store: firestoreLabelStore(clients.db),
    publisher: resultPublisher(pubsubPublisher(clients.pubsub), cfg.PREDICTION_RESULTS_TOPIC),
    logger,
    publishLeaseMs: cfg.PUBLISH_LEASE_MS,
    rollupIntervalMs: cfg.COUNTS_ROLLUP_INTERVAL_MS,
    lastRollup: new Map(),
  };
}
