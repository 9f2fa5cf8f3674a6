import { messageFields, nestedFields, type Field, type JsonSchema, type Scalar } from './to-proto';

/**
 * The BigQuery table schema a BigQuery subscription with `use_topic_schema` writes into: one
 * column per field of the topic's Pub/Sub schema (same names; a nested message is a RECORD),
 * plus the columns `write_metadata` fills. Every column is NULLABLE: a table column may be
 * looser than the schema field, and each message shape on the topic leaves the other's fields
 * empty. (cloud.google.com/pubsub/docs/bigquery, schema compatibility.)
 */
export interface BigQueryColumn {
  name: string;
  type: 'STRING' | 'INTEGER' | 'FLOAT' | 'BOOLEAN' | 'RECORD' | 'TIMESTAMP';
  mode: 'NULLABLE' | 'REQUIRED';
  description?: string;
  fields?: BigQueryColumn[];
}

const TYPES: Record<Scalar, BigQueryColumn['type']> = { string: 'STRING', int64: 'INTEGER', double: 'FLOAT', bool: 'BOOLEAN' };

/** what write_metadata = true adds; publish_time is what the table is partitioned on */
export const METADATA_COLUMNS: BigQueryColumn[] = [
  { name: 'subscription_name', type: 'STRING', mode: 'NULLABLE', description: 'the BigQuery subscription that wrote the row' },
  { name: 'message_id', type: 'STRING', mode: 'NULLABLE', description: 'the Pub/Sub message id' },
  { name: 'publish_time', type: 'TIMESTAMP', mode: 'NULLABLE', description: 'when the message was published; the table is partitioned by its day' },
  { name: 'attributes', type: 'STRING', mode: 'NULLABLE', description: 'the message attributes (type, job, status, resultId, label, model) as a JSON object' },
];

export function bigQuerySchema(schema: JsonSchema, messageName: string): BigQueryColumn[] {
  return [...messageFields(schema, messageName).map(column), ...METADATA_COLUMNS];
}

function column(f: Field): BigQueryColumn {
  const description = f.description ? { description: f.description.slice(0, 1024) } : {};
  if (f.type.kind === 'message') return { name: f.name, type: 'RECORD', mode: 'NULLABLE', ...description, fields: nestedFields(f).map(column) };
  return { name: f.name, type: TYPES[f.type.scalar], mode: 'NULLABLE', ...description };
}
