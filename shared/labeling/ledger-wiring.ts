import { Firestore } from '@google-cloud/firestore';
import type { Logger } from '#shared/logging/logger';
import { firestoreLabelStore } from './adapters/firestore-label-store';
import type { LedgerConfig } from './config';
import type { LedgerDeps } from './results-ledger';

/** results-ledger only flags results in Firestore. */
export function buildLedgerDeps(cfg: LedgerConfig, logger: Logger): LedgerDeps {
  return { store: firestoreLabelStore(new Firestore({ projectId: cfg.GOOGLE_CLOUD_PROJECT })), logger };
}
