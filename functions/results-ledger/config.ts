import type { z } from 'zod';
import { googleConfigSchema } from '#shared/config/google-config';

/** results-ledger only flags results in Firestore: the project is all it needs. */
export const ledgerConfigSchema = googleConfigSchema;

export type LedgerConfig = z.infer<typeof ledgerConfigSchema>;
