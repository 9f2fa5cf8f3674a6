/**
 * Writes terraform/schemas/<topic>.proto, the Pub/Sub schema of each topic subscribers read,
 * from the message contract (shared/messages/contract.ts). terraform reads the files with
 * file() (terraform/consumers.tf); test/unit/messages/message-schemas.test.ts fails when a
 * committed file differs from a fresh generation.
 *
 * Run: npx node --conditions=source --import tsx terraform/scripts/generate-message-schemas.ts
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { MESSAGE_CONTRACTS, type ContractTopic } from '#shared/messages/contract';
import { protoSchema, type JsonSchema } from '#shared/messages/to-proto';

export const SCHEMAS_DIR = join(__dirname, '..', 'schemas');

export function schemaFile(topic: ContractTopic): string {
  return join(SCHEMAS_DIR, `${topic}.proto`);
}

export function generateSchema(topic: ContractTopic): string {
  const c = MESSAGE_CONTRACTS[topic];
  return protoSchema(z.toJSONSchema(c.body) as JsonSchema, c.protoMessage, `The body of a message on ${topic} (JSON encoding).`);
}

if (require.main === module) {
  for (const topic of Object.keys(MESSAGE_CONTRACTS) as ContractTopic[]) {
    writeFileSync(schemaFile(topic), generateSchema(topic));
    process.stdout.write(`wrote ${schemaFile(topic)}\n`);
  }
}
