import { Firestore } from '@google-cloud/firestore';
import { z } from 'zod';
import { uniqueProjectId, requireEmulatorEnv } from '#test/support/emulator-env';
import { firestoreLabelStore } from '#shared/labeling/adapters/firestore-label-store';
import { resultPublisher } from '#shared/labeling/adapters/pubsub-publishers';
import { errorResult, labelResultSchema, RESULT_FIELDS, resultFromDocument, type LabelResult } from '#shared/labeling/result';
import { resultMessageSchema } from '#shared/messages/contract';
import { csvHeader, csvLine, jsonLine, RESULT_COLUMNS } from '#local/cli/result-format';
import { readResults } from '#local/cli/results';

// The result document is defined once (labelResultSchema). A result with a value in every field
// of the schema, whatever fields it has today, goes through everything that carries results:
// the real store on the Firestore emulator (written, then taken over by a second delivery after
// the first one's publish lease ran out), the publisher, and the CLI's formats. A field added
// to the schema but dropped by one of them fails here.

jest.setTimeout(60_000);

requireEmulatorEnv();
const db = new Firestore({ projectId: uniqueProjectId('demo-result-document') });
afterAll(() => db.terminate());

type JsonSchema = { type?: string | string[]; enum?: unknown[]; anyOf?: JsonSchema[]; const?: unknown };

/** A non-null value of the field's type, different for every field, so a swapped or dropped field shows. */
function sampleValue(field: string, index: number, schema: JsonSchema): unknown {
  const nonNull = schema.anyOf?.find((s) => s.type !== 'null') ?? schema;
  if (nonNull.enum) return nonNull.enum[0];
  if (nonNull.const !== undefined) return nonNull.const;
  const type = Array.isArray(nonNull.type) ? nonNull.type.find((t) => t !== 'null') : nonNull.type;
  switch (type) {
    case 'string':
      return `${field}-${index}`;
    case 'integer':
      return 1000 + index;
    case 'number':
      return index + 0.25;
    case 'boolean':
      return true;
    default:
      throw new Error(`no sample value for ${field} (${JSON.stringify(schema)}): teach this test the new field's type`);
  }
}

/** A result with every field of the schema set (none null). */
function everyFieldResult(): LabelResult {
  const properties = (z.toJSONSchema(labelResultSchema) as { properties: Record<string, JsonSchema> }).properties;
  expect(Object.keys(properties)).toEqual([...RESULT_FIELDS]);
  const sample = Object.fromEntries(RESULT_FIELDS.map((f, i) => [f, sampleValue(f, i, properties[f]!)]));
  return labelResultSchema.parse(sample);
}

describe('the result document, defined once, carried whole', () => {
  it('every schema field survives the store, the takeover by another delivery, the publisher and the CLI formats', async () => {
    // Prepare: a result with every field set, written by a delivery that then dies before publishing
    const job = 'every-field';
    const stored = { ...everyFieldResult(), job };
    for (const f of RESULT_FIELDS) expect(stored[f]).not.toBeNull();
    let t = 1_000_000;
    const store = firestoreLabelStore(db, () => t);
    const first = await store.recordResults(job, [stored], 5_000);
    expect(first.created.map((r) => r.id)).toEqual([stored.id]);

    // Act: a redelivery after the publish lease, carrying a different (ERROR) result under the same id
    t += 60_000;
    const redelivered = errorResult({ id: stored.id, job, imageUri: stored.imageUri, generation: stored.generation }, 'a later outcome that must not replace the stored one', 'LATER');
    const second = await store.recordResults(job, [redelivered], 5_000);

    // Assess: the taking-over delivery publishes the stored result, every field of it
    expect(second.created).toEqual([]);
    expect(second.toPublish).toEqual([stored]);

    const published: Array<{ body: unknown; attributes?: Record<string, string> }> = [];
    const publisher = resultPublisher({ publish: async (_topic, body, attributes) => String(published.push({ body: JSON.parse(JSON.stringify(body)), attributes })) }, 'prediction-results');
    await publisher.publishResult(second.toPublish[0]!);
    const message = resultMessageSchema.parse(published[0]!.body);
    expect(Object.keys(resultMessageSchema.shape)).toEqual(['type', ...RESULT_FIELDS]);
    expect(message).toEqual({ type: 'result', ...stored });

    // the document as stored holds the schema's fields beside the store's bookkeeping
    const doc = (await db.collection('jobs').doc(job).collection('results').doc(stored.id).get()).data()!;
    expect(resultFromDocument(doc)).toEqual(stored);

    // dropship results: a CSV column per field, each cell the stored value; JSONL with every field
    const [row] = await readResults(db, job);
    expect([...RESULT_COLUMNS].sort()).toEqual([...RESULT_FIELDS].sort());
    const header = csvHeader().trimEnd().split(',');
    const cells = csvLine(row!).trimEnd().split(',');
    for (const f of RESULT_FIELDS) expect([f, cells[header.indexOf(f)]]).toEqual([f, String(stored[f])]);
    const line = JSON.parse(jsonLine(row!)) as Record<string, unknown>;
    for (const f of RESULT_FIELDS) expect([f, line[f]]).toEqual([f, stored[f]]);
  });

  it('a document written before a field existed reads back with that field null', () => {
    const { latencyMs: _latencyMs, ...older } = { ...everyFieldResult(), published: true };
    expect(resultFromDocument(older).latencyMs).toBeNull();
    expect(resultFromDocument(older)).not.toHaveProperty('published');
  });
});
