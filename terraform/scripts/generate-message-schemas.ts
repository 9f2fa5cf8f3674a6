/**
 * Writes terraform/schemas/<topic>.proto, the Pub/Sub schema of each topic subscribers read,
 * and terraform/schemas/prediction-results.bigquery.json, the table the optional BigQuery
 * subscription writes results into, from the message contract (shared/messages/contract.ts).
 * terraform reads the files with
 * file() (terraform/consumers.tf); test/unit/messages/message-schemas.test.ts fails when a
 * committed file differs from a fresh generation.
 *
 * Run: npx node --conditions=source --import tsx terraform/scripts/generate-message-schemas.ts
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { MESSAGE_CONTRACTS, type ContractTopic } from '#shared/messages/contract';
import { bigQuerySchema } from '#shared/messages/to-bigquery';
import { protoSchema, type JsonSchema } from '#shared/messages/to-proto';

export const SCHEMAS_DIR = join(__dirname, '..', 'schemas');

export function schemaFile(topic: ContractTopic): string {
  return join(SCHEMAS_DIR, `${topic}.proto`);
}

export function generateSchema(topic: ContractTopic): string {
  const c = MESSAGE_CONTRACTS[topic];
  return protoSchema(z.toJSONSchema(c.body) as JsonSchema, c.protoMessage, `The body of a message on ${topic} (JSON encoding).`);
}

export const RESULTS_TABLE_SCHEMA_FILE = join(SCHEMAS_DIR, 'prediction-results.bigquery.json');

export function generateResultsTableSchema(): string {
  const c = MESSAGE_CONTRACTS['prediction-results'];
  return JSON.stringify(bigQuerySchema(z.toJSONSchema(c.body) as JsonSchema, c.protoMessage), null, 2) + '\n';
}

/** Every generated file and its content. */
export function generatedFiles(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const topic of Object.keys(MESSAGE_CONTRACTS) as ContractTopic[]) out[schemaFile(topic)] = generateSchema(topic);
  out[RESULTS_TABLE_SCHEMA_FILE] = generateResultsTableSchema();
  return out;
}

if (require.main === module) {
  for (const [path, text] of Object.entries(generatedFiles())) {
    writeFileSync(path, text);
    process.stdout.write(`wrote ${path}\n`);
  }
}
