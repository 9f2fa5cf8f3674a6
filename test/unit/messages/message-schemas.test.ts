import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { MessagePublisher } from '#shared/adapters/pubsub-publisher';
import type { DeploymentContext } from '#shared/deployment/context';
import type { VersionRecord } from '#shared/deployment/core/records';
import { pubsubModelEvents } from '#shared/deployment/adapters/pubsub-model-events';
import { systemClock } from '#shared/deployment/ports';
import { recordChange } from '#shared/deployment/record-change';
import { resultPublisher } from '#shared/labeling/adapters/pubsub-publishers';
import { errorResult, manifestLineResultId, okResult, resultId, type LabelResult } from '#shared/labeling/result';
import { createLogger } from '#shared/logging/logger';
import { MESSAGE_CONTRACTS, type ContractTopic } from '#shared/messages/contract';
import { protoSchema, type JsonSchema } from '#shared/messages/to-proto';
import { basename } from 'node:path';
import { generatedFiles, schemaFile } from '../../../terraform/scripts/generate-message-schemas';
import { ProtoJsonValidator } from '../../support/proto-json-validator';

interface Published {
  topic: string;
  body: unknown;
  attributes: Record<string, string>;
}

/** A MessagePublisher that keeps what the real publish code hands to Pub/Sub. */
function capture(): { publisher: MessagePublisher; published: Published[] } {
  const published: Published[] = [];
  return {
    published,
    publisher: {
      async publish(topic, body, attributes) {
        // what the client sends: the JSON text of the body
        published.push({ topic, body: JSON.parse(JSON.stringify(body)), attributes: attributes ?? {} });
        return String(published.length);
      },
    },
  };
}

const validators = Object.fromEntries((Object.keys(MESSAGE_CONTRACTS) as ContractTopic[]).map((t) => [t, ProtoJsonValidator.fromFile(schemaFile(t), MESSAGE_CONTRACTS[t].protoMessage)])) as Record<
  ContractTopic,
  ProtoJsonValidator
>;

/** Every problem the published schema, or the contract's body and attribute schemas, find. */
function problems(topic: ContractTopic, m: Published): string[] {
  const c = MESSAGE_CONTRACTS[topic];
  const out: string[] = [];
  const schema = validators[topic].problem(m.body);
  if (schema) out.push(`Pub/Sub schema: ${schema}`);
  const body = c.body.safeParse(m.body);
  if (!body.success) out.push(`contract body: ${z.prettifyError(body.error)}`);
  const attrs = c.attributes.safeParse(m.attributes);
  if (!attrs.success) out.push(`contract attributes: ${z.prettifyError(attrs.error)}`);
  return out;
}

const base = (job: string, name: string, generation: string | null) => ({ id: resultId(job, 'bucket', name, generation), job, imageUri: `gs://bucket/${name}`, generation });

async function publishedResults(extra: Record<string, unknown> = {}): Promise<Published[]> {
  const { publisher, published } = capture();
  const results = resultPublisher(publisher, 'prediction-results');
  const ok = okResult(base('j1', 'j1/a.png', '17'), {
    label: '7',
    confidence: 0.93,
    modelName: 'mnist-vit',
    model: 'projects/p/locations/us-central1/models/m',
    modelVersionId: '2',
    deployedModelId: '123',
    latencyMs: 41,
  });
  const unreadable = errorResult(base('j1', 'j1/gone.png', null), 'the object was deleted before it could be read', 'NOT_FOUND');
  const rejected = errorResult(base('j1', 'j1/big.png', '3'), 'the image has 100000000 pixels; the limit is 40000000', 'TOO_MANY_PIXELS', 'mnist-vit');
  const badLine = errorResult(
    { id: manifestLineResultId('j1', 'gs://bucket/j1/_manifest.txt', 4), job: 'j1', imageUri: 'gs://bucket/j1/_manifest.txt#line=4', generation: null },
    'line 4 is not a gs:// URI',
    'BAD_MANIFEST_LINE',
    'mnist-vit',
  );
  for (const r of [ok, unreadable, rejected, badLine]) await results.publishResult({ ...r, ...extra } as LabelResult);
  await results.publishJobCompleted({ job: 'j1', model: 'mnist-vit', state: 'COMPLETED', total: 4 }, { ok: 1, error: 3 });
  await results.publishJobCompleted({ job: 'folder-job', model: 'mnist-vit', state: 'RUNNING' }, { ok: 2, error: 0 });
  return published;
}

/** model-events as the deployment core publishes them: recordChange with the real adapter. */
async function publishedModelEvents(): Promise<Published[]> {
  const { publisher, published } = capture();
  const now = new Date().toISOString();
  const rec = (state: VersionRecord['state'], more: Partial<VersionRecord> = {}): VersionRecord =>
    ({
      model: 'mnist',
      version: 'v2',
      state,
      history: [{ from: null, to: state, at: now }],
      artifactUri: 'gs://m/mnist/v2/',
      claimedBy: 'm/mnist/v2/saved_model.pb#1',
      versionAlias: 'v2',
      traffic: 'replace',
      createdAt: now,
      updatedAt: now,
      ...more,
    }) as VersionRecord;
  let next = rec('PENDING');
  const ctx = {
    store: { change: async () => next },
    events: pubsubModelEvents(publisher, 'model-events'),
    clock: systemClock,
    log: createLogger({ component: 'test', write: () => undefined }),
    location: 'us-central1',
    leaseMs: 1000,
  } as unknown as DeploymentContext;
  // the first event of a version has no previous state
  await ctx.events.publish({ model: 'mnist', version: 'v2', from: null, state: 'PENDING', at: now });
  next = rec('REGISTERING');
  await recordChange(ctx, rec('VALIDATING'), 'h', { to: 'REGISTERING' });
  next = rec('DEPLOYED', { vertexModel: 'projects/p/locations/l/models/1', vertexModelVersionId: '2', endpoint: 'projects/p/locations/l/endpoints/9', deployedModelId: '55', trafficPercent: 100 });
  await recordChange(ctx, rec('DEPLOYING'), 'h', { to: 'DEPLOYED' });
  next = rec('FAILED');
  await recordChange(ctx, rec('VALIDATING'), 'h', { to: 'FAILED', reason: 'saved_model.pb is missing' });
  next = rec('SUPERSEDED', { trafficPercent: 0 });
  await recordChange(ctx, rec('DEPLOYED'), 'h', { to: 'SUPERSEDED', reason: 'a newer version took its traffic' });
  return published;
}

describe('the message contract as Pub/Sub schemas', () => {
  it.each(Object.entries(generatedFiles()).map(([path, text]) => [basename(path), path, text]))('terraform/schemas/%s is what the contract generates', (_, path, text) => {
    expect(readFileSync(path, 'utf8')).toBe(text);
  });

  it('holds every message the result publisher sends (results of each kind, job-completed)', async () => {
    const published = await publishedResults();
    expect(published.map((m) => m.body)).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'result', status: 'OK' }), expect.objectContaining({ type: 'job-completed' })]));
    for (const m of published) expect({ body: m.body, problems: problems('prediction-results', m) }).toEqual({ body: m.body, problems: [] });
  });

  it('holds every model event the deployment core publishes', async () => {
    const published = await publishedModelEvents();
    expect(published).toHaveLength(5);
    for (const m of published) expect({ body: m.body, problems: problems('model-events', m) }).toEqual({ body: m.body, problems: [] });
  });

  it('rejects a result when a publisher adds a field the contract does not declare', async () => {
    const published = await publishedResults({ score: 0.5 });
    for (const m of published.filter((p) => (p.body as { type: string }).type === 'result')) {
      expect(validators['prediction-results'].problem(m.body)).toMatch(/key "score" is unknown/);
      expect(problems('prediction-results', m)).toEqual([expect.stringMatching(/^Pub\/Sub schema/), expect.stringMatching(/^contract body: .*score/s)]);
    }
  });

  it('rejects a model event with an undeclared field, a wrong type, or a missing required field', () => {
    const v = validators['model-events'];
    const good = { model: 'm', version: 'v1', from: null, state: 'PENDING', at: '2026-12-01T00:00:00Z' };
    expect(v.problem(good)).toBeUndefined();
    expect(v.problem({ ...good, region: 'x' })).toMatch(/key "region" is unknown/);
    expect(v.problem({ ...good, trafficPercent: 'all' })).toMatch(/trafficPercent/);
    const { version: _, ...noVersion } = good;
    expect(v.problem(noVersion)).toMatch(/required field version/);
  });

  it('takes JSON as our publishers write it: plain values, null for unset, optional fields left out', () => {
    const v = validators['prediction-results'];
    expect(v.problem({ type: 'result', job: 'j', id: 'x', label: null, confidence: 0.5, latencyMs: 3 })).toBeUndefined();
    expect(v.problem({ type: 'job-completed', job: 'j', model: 'm', total: 2, counts: { ok: 2, error: 0 } })).toBeUndefined();
    // the old job-completed shape, with a count where results carry a sentence, is refused
    expect(v.problem({ type: 'job-completed', job: 'j', model: 'm', total: 2, ok: 2, error: 0 })).toMatch(/key "ok" is unknown|error/);
  });

  it('refuses to generate a schema when two message shapes give one field two types', () => {
    const clash = z.discriminatedUnion('type', [
      z.strictObject({ type: z.literal('result'), error: z.string().nullable() }),
      z.strictObject({ type: z.literal('job-completed'), error: z.number().int() }),
    ]);
    expect(() => protoSchema(z.toJSONSchema(clash) as JsonSchema, 'M')).toThrow(/M\.error has two types across message shapes \(string and int64\)/);
  });
});
