import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PubSub } from '@google-cloud/pubsub';
import { MESSAGE_CONTRACTS, type ContractTopic } from '#shared/messages/contract';
import { resultPublisher } from '#shared/labeling/adapters/pubsub-publishers';
import { okResult, resultId } from '#shared/labeling/result';
import { schemaFile } from '../../../terraform/scripts/generate-message-schemas';
import { requireEmulatorEnv, uniqueProjectId } from '../../support/emulator-env';
import { GcloudCli, gcloudAvailable } from '../../support/gcloud-cli';
import { ProtoJsonValidator } from '../../support/proto-json-validator';

jest.setTimeout(90_000);

const REPO = join(__dirname, '..', '..', '..');
const DOC = readFileSync(join(REPO, 'docs', 'subscribing.md'), 'utf8');
const blocks = (lang: string) => [...DOC.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);

/** The shell commands of the doc's sh blocks, continuation lines joined, comments dropped. */
function shellCommands(): string[] {
  return blocks('sh').flatMap((b) =>
    b
      .replace(/\\\n\s*/g, ' ')
      .split('\n')
      .map((l) => l.replace(/\s+#.*$/, '').trim())
      .filter((l) => l && !l.startsWith('#')),
  );
}

/** Splits a command line as sh would for what the doc uses: quotes and $VARS. */
function shellWords(line: string, vars: Record<string, string>): string[] {
  const words: string[] = [];
  let cur = '';
  let has = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      cur += line.slice(i + 1, end);
      i = end;
      has = true;
    } else if (c === '"') {
      const end = line.indexOf('"', i + 1);
      cur += expand(line.slice(i + 1, end), vars);
      i = end;
      has = true;
    } else if (c === ' ') {
      if (has) words.push(cur);
      cur = '';
      has = false;
    } else if (c === '$') {
      const name = /^\$([A-Z_]+)/.exec(line.slice(i))![1]!;
      cur += expand(`$${name}`, vars);
      i += name.length;
      has = true;
    } else {
      cur += c;
      has = true;
    }
  }
  if (has) words.push(cur);
  return words;
}

function expand(s: string, vars: Record<string, string>): string {
  return s.replace(/\$([A-Z_]+)/g, (_, n: string) => {
    if (!(n in vars)) throw new Error(`the doc uses $${n}, which it does not set`);
    return vars[n]!;
  });
}

const validators = Object.fromEntries((Object.keys(MESSAGE_CONTRACTS) as ContractTopic[]).map((t) => [t, ProtoJsonValidator.fromFile(schemaFile(t), MESSAGE_CONTRACTS[t].protoMessage)])) as Record<
  ContractTopic,
  ProtoJsonValidator
>;

describe('docs/subscribing.md', () => {
  it('every JSON example is a message the topic schema and the contract accept', () => {
    const examples = blocks('json').map((b) => JSON.parse(b) as Record<string, unknown>);
    expect(examples.length).toBe(4);
    for (const body of examples) {
      const topic: ContractTopic = 'state' in body ? 'model-events' : 'prediction-results';
      expect({ body, schema: validators[topic].problem(body), contract: MESSAGE_CONTRACTS[topic].body.safeParse(body).success }).toEqual({ body, schema: undefined, contract: true });
    }
  });

  describe('on the Pub/Sub emulator', () => {
    const projectId = uniqueProjectId('demo-subscribing-docs');
    let pubsub: PubSub;
    beforeAll(async () => {
      requireEmulatorEnv();
      pubsub = new PubSub({ projectId });
      await pubsub.createTopic('dropship-prediction-results');
    });
    afterAll(async () => {
      const [subs] = await pubsub.getSubscriptions();
      await Promise.all(subs.map((s) => s.delete().catch(() => undefined)));
      await pubsub.close();
    });

    const gcloudIt = gcloudAvailable() ? it : it.skip;
    if (!gcloudAvailable()) process.stdout.write('gcloud is not installed: the gcloud snippets of docs/subscribing.md are not run\n');

    gcloudIt('every gcloud snippet runs as written, and each subscription has the filter the doc gives it', async () => {
      const gcloud = new GcloudCli({ project: projectId, pubsub: `http://${process.env.PUBSUB_EMULATOR_HOST}/` });
      try {
        const vars: Record<string, string> = {};
        const commands = shellCommands();
        for (const line of commands) {
          const assign = /^([A-Z_]+)=(\S+)$/.exec(line);
          if (assign) vars[assign[1]!] = assign[2]!.replace('producer-project', projectId);
        }
        const gcloudLines = commands.filter((l) => l.startsWith('gcloud '));
        expect(gcloudLines.length).toBeGreaterThanOrEqual(7);
        for (const line of gcloudLines) {
          const args = shellWords(line, vars).slice(1);
          // a pull on the emulator waits for a message: give it one (after its subscription exists)
          if (args[2] === 'pull') await pubsub.topic('dropship-prediction-results').publishMessage({ json: { type: 'job-completed' }, attributes: { type: 'job-completed', job: 'cats' } });
          const out = await gcloud.run(args, { timeoutMs: 30_000 });
          expect({ line, code: out.code, stderr: out.code === 0 ? '' : out.stderr }).toEqual({ line, code: 0, stderr: '' });
          if (args[2] === 'create') {
            const filter = args.find((a) => a.startsWith('--message-filter='))?.slice('--message-filter='.length);
            const [meta] = await pubsub.subscription(args[3]!).getMetadata();
            expect({ line, filter: meta.filter || undefined, topic: meta.topic }).toEqual({ line, filter, topic: `projects/${projectId}/topics/dropship-prediction-results` });
          }
        }
      } finally {
        gcloud.dispose();
      }
    });

    it('docs/examples/subscriber.mjs handles each result once however often it is delivered, and stops on SIGINT', async () => {
      const [sub] = await pubsub.topic('dropship-prediction-results').createSubscription('example-subscriber', { ackDeadlineSeconds: 10 });
      const child = spawn(join(REPO, 'node_modules', '.bin', 'node'), [join(REPO, 'docs', 'examples', 'subscriber.mjs'), sub.name.split('/').pop()!], {
        env: { ...process.env, GOOGLE_CLOUD_PROJECT: projectId, METADATA_SERVER_DETECTION: 'none' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const exited = new Promise<number | null>((r) => child.on('close', r));

      // the real publisher, each message sent twice, as a redelivery or a second publish would bring it
      const topic = pubsub.topic('dropship-prediction-results');
      const twice = resultPublisher(
        { publish: async (_topic, body, attributes) => (await Promise.all([1, 2].map(() => topic.publishMessage({ json: body, attributes }))))[0]! },
        'dropship-prediction-results',
      );
      for (const name of ['cats/a.png', 'cats/b.png']) {
        await twice.publishResult(
          okResult(
            { id: resultId('cats', 'b', name, '1'), job: 'cats', imageUri: `gs://b/${name}`, generation: '1' },
            { label: 'tabby', confidence: 0.9, modelName: 'pets', model: 'm', modelVersionId: '1', deployedModelId: 'd', latencyMs: 10 },
          ),
        );
      }
      await twice.publishJobCompleted({ job: 'cats', model: 'pets', state: 'COMPLETED', total: 2 }, { ok: 2, error: 0 });

      const until = Date.now() + 30_000;
      while (stdout.split('\n').filter(Boolean).length < 3 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
      // copies may still be on their way: give them a moment to show up (they must not)
      await new Promise((r) => setTimeout(r, 1500));
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(stderr).toBe('');
      expect(stdout.split('\n').filter(Boolean).sort()).toEqual(['OK gs://b/cats/a.png tabby', 'OK gs://b/cats/b.png tabby', 'job cats done: 2 OK, 0 ERROR']);
    });

    it("Avro would not fit: the emulator's Avro JSON validator refuses a real result message and accepts an undeclared field", async () => {
      const base = `http://${process.env.PUBSUB_EMULATOR_HOST}/v1/projects/${projectId}`;
      // the result message as Avro, nullable fields as ["null", T] unions (Avro's only way to say nullable)
      const avroType = (p: { type?: string | string[]; anyOf?: Array<{ type: string }> }): unknown => {
        const types = p.anyOf ? p.anyOf.map((a) => a.type) : Array.isArray(p.type) ? p.type : [p.type!];
        const t = types.find((x) => x !== 'null')!;
        const avro = { string: 'string', number: 'double', integer: 'long' }[t]!;
        return types.includes('null') ? ['null', avro] : avro;
      };
      const { z } = await import('zod');
      const { resultMessageSchema } = await import('#shared/messages/contract');
      const json = z.toJSONSchema(resultMessageSchema) as { properties: Record<string, { type?: string | string[]; anyOf?: Array<{ type: string }> }> };
      const definition = JSON.stringify({ type: 'record', name: 'Result', fields: Object.entries(json.properties).map(([name, p]) => ({ name, type: avroType(p) })) });
      const created = await fetch(`${base}/schemas?schemaId=result-avro`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'AVRO', definition }) });
      expect(created.status).toBe(200);
      const validate = async (body: unknown) => {
        const res = await fetch(`${base}/schemas:validateMessage`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ name: `projects/${projectId}/schemas/result-avro`, message: Buffer.from(JSON.stringify(body)).toString('base64'), encoding: 'JSON' }),
        });
        return res.status === 200 ? 'valid' : `${res.status} ${((await res.json()) as { error: { message: string } }).error.message}`;
      };
      const published: unknown[] = [];
      await resultPublisher({ publish: async (_, body) => String(published.push(JSON.parse(JSON.stringify(body)))) }, 't').publishResult(
        okResult(
          { id: 'x', job: 'cats', imageUri: 'gs://b/cats/a.png', generation: '1' },
          { label: 'tabby', confidence: 0.9, modelName: 'pets', model: 'm', modelVersionId: '1', deployedModelId: 'd', latencyMs: 10 },
        ),
      );
      const message = published[0] as Record<string, unknown>;
      const wrapped = Object.fromEntries(
        Object.entries(message).map(([k, v]) => [k, Array.isArray(avroType(json.properties[k]!)) && v !== null ? { [(avroType(json.properties[k]!) as string[])[1]!]: v } : v]),
      );
      expect(await validate(message)).toMatch(/^400 .*Could not parse JSON Avro message/);
      expect(await validate(wrapped)).toBe('valid');
      expect(await validate({ ...wrapped, score: 0.5 })).toBe('valid');
      // the same message with the proto schema: plain values accepted, the extra field refused
      expect(validators['prediction-results'].problem(message)).toBeUndefined();
      expect(validators['prediction-results'].problem({ ...message, score: 0.5 })).toMatch(/"score" is unknown/);
    });
  });
});
