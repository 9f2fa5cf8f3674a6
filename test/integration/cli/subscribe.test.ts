import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Message } from '@google-cloud/pubsub';
import { z } from 'zod';
import { pubsubPublisher } from '#shared/adapters/pubsub-publisher';
import { pubsubModelEvents } from '#shared/deployment/adapters/pubsub-model-events';
import { MESSAGE_CONTRACTS } from '#shared/messages/contract';
import { writeStackFile } from '#local/stack/stack-file';
import { encodeDigit, heldOutDigits } from '#local/model-build/mnist-digits';
import { schemaFile } from '../../../terraform/scripts/generate-message-schemas';
import { ProtoJsonValidator } from '../../support/proto-json-validator';
import { IMAGES_BUCKET, MODEL, PipelineHarness } from '../labeling/pipeline-harness';
import { cliEnv, DROPSHIP, REPO_ROOT } from './run-cli';

jest.setTimeout(120_000);

/**
 * `dropship subscribe --job J --status ERROR`, the real CLI process, against the labeling
 * functions running on the emulators (the local stack's pieces, found through a stack.json
 * as `dropship up` writes it), while two jobs run and every result is delivered twice.
 */
const h = new PipelineHarness();
const digits = heldOutDigits();
let dataDir: string;
let control: Server;
let cli: ChildProcess | undefined;

beforeAll(async () => {
  await h.start();
  control = createServer((_, res) => res.end(JSON.stringify({ pid: process.pid })));
  await new Promise<void>((r) => control.listen(0, '127.0.0.1', r));
  const port = (control.address() as { port: number }).port;
  dataDir = mkdtempSync(join(tmpdir(), 'dropship-subscribe-'));
  const now = new Date().toISOString();
  writeStackFile({
    pid: process.pid,
    processGroups: [],
    startedAt: now,
    readyAt: now,
    dataDir,
    project: h.projectId,
    region: 'us-central1',
    controlUrl: `http://127.0.0.1:${port}/`,
    pubsubEmulatorHost: process.env.PUBSUB_EMULATOR_HOST!,
    firestoreEmulatorHost: process.env.FIRESTORE_EMULATOR_HOST!,
    storage: { url: h.storageEmulator.url, dataDir },
    vertex: { endpoint: h.vertex.endpoint },
    buckets: { models: 'dropship-models', images: IMAGES_BUCKET },
    topics: { 'prediction-results': 'prediction-results', 'model-events': 'model-events' },
    functions: {},
  });
});

afterAll(async () => {
  if (cli && cli.exitCode === null) cli.kill('SIGKILL');
  await new Promise<void>((r) => control?.close(() => r()));
  await h.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Starts the CLI and resolves once it says it is subscribed. */
function startSubscribe(args: string[]): Promise<{ child: ChildProcess; out: { stdout: string; stderr: string }; exited: Promise<number | null> }> {
  const child = spawn(DROPSHIP, ['subscribe', '--data', dataDir, ...args], { cwd: REPO_ROOT, env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  cli = child;
  const out = { stdout: '', stderr: '' };
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => (out.stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => {
      out.stderr += c.toString();
      if (/subscribed to /.test(out.stderr)) resolve({ child, out, exited });
    });
    void exited.then((code) => reject(new Error(`dropship subscribe exited ${code} before subscribing:\n${out.stderr}`)));
  });
}

/** Publishes a second copy of every result and job-completed message, as a redelivery would bring it. */
async function duplicateEveryMessage(): Promise<() => Promise<void>> {
  const topic = h.pubsub.topic('prediction-results');
  const [tap] = await topic.createSubscription(`duplicator-${Date.now()}`, { ackDeadlineSeconds: 60 });
  const copied = new Set<string>();
  const copies: Promise<string>[] = [];
  tap.on('message', (m: Message) => {
    const key = m.attributes.resultId ?? `completed ${m.attributes.job}`;
    if (!copied.has(key)) {
      copied.add(key);
      copies.push(topic.publishMessage({ data: m.data, attributes: { ...m.attributes } }));
    }
    m.ack();
  });
  return async () => {
    await tap.close();
    await Promise.all(copies);
    await tap.delete();
  };
}

it('prints exactly the ERROR results of job J while it runs, once each, and stops cleanly on SIGINT, deleting its subscription', async () => {
  const run = await startSubscribe(['--job', 'watched', '--status', 'ERROR', '--json']);
  expect(run.out.stderr).toMatch(/filter: attributes\.job = "watched" AND attributes\.status = "ERROR"/);
  expect(run.out.stderr).toMatch(/the Pub\/Sub emulator ignores subscription filters: the filter is applied here, client-side/);
  const subscription = /subscribed to \S+ as (\S+?),/.exec(run.out.stderr)![1]!;
  expect(await h.pubsub.subscription(subscription).exists()).toEqual([true]);
  const stopDuplicating = await duplicateEveryMessage();

  const good = await Promise.all([0, 1].map((i) => encodeDigit(digits[7 + i]!.pixels, 'png', { size: 56 })));
  const jpeg = await encodeDigit(digits[9]!.pixels, 'jpeg', { size: 280 });
  await h.uploadAll([
    { name: 'watched/good-0.png', bytes: good[0]! },
    { name: 'watched/good-1.png', bytes: good[1]! },
    { name: 'watched/zero.jpg', bytes: Buffer.alloc(0) },
    { name: 'watched/notes.jpg', bytes: Buffer.from('not a photo\n') },
    { name: 'watched/truncated.jpg', bytes: jpeg.subarray(0, Math.floor(jpeg.length * 0.6)) },
  ]);
  // another job with errors of its own, and a job-completed message
  await h.upload('other/_manifest.txt', Buffer.from([`gs://${IMAGES_BUCKET}/watched/good-0.png`, 'not a uri', `gs://${IMAGES_BUCKET}/nowhere/missing.png`].join('\n')));

  await h.waitFor('5 results of watched', async () => (await h.resultCount('watched')) >= 5, 60_000);
  await h.waitFor('other to complete', async () => (await h.db.doc('jobs/other').get()).get('state') === 'COMPLETED', 60_000);
  const expected = (await h.results('watched')).filter((r) => r.status === 'ERROR');
  expect(expected).toHaveLength(3);
  // every message and its copy is on the topic before the CLI is stopped
  await h.waitFor(
    'two copies of every message',
    () => h.messages.length >= 2 * (5 + 3 + 1),
    30_000,
    () => `${h.messages.length} messages`,
  );
  await h.waitFor(
    'the CLI to print the 3 errors',
    () => run.out.stdout.split('\n').filter(Boolean).length >= 3,
    30_000,
    () => run.out.stdout,
  );
  await stopDuplicating();
  await h.settle(1500);

  run.child.kill('SIGINT');
  expect(await run.exited).toBe(0);
  const printed = run.out.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(printed.map((p) => p.id).sort()).toEqual(expected.map((r) => r.docId).sort());
  for (const p of printed) expect(p).toMatchObject({ type: 'result', job: 'watched', status: 'ERROR', modelName: MODEL });
  expect(run.out.stderr).toMatch(new RegExp(`deleted subscription ${subscription}`));
  expect(await h.pubsub.subscription(subscription).exists()).toEqual([false]);

  // Every message the functions published holds against the topic's Pub/Sub schema and the contract.
  const contract = MESSAGE_CONTRACTS['prediction-results'];
  const schema = ProtoJsonValidator.fromFile(schemaFile('prediction-results'), contract.protoMessage);
  expect(new Set(h.messages.map((m) => m.attributes.type))).toEqual(new Set(['result', 'job-completed']));
  for (const m of h.messages) {
    const problems = [schema.problem(m.body), contract.body.safeParse(m.body).error, contract.attributes.safeParse(m.attributes).error]
      .filter(Boolean)
      .map((p) => (p instanceof z.ZodError ? z.prettifyError(p) : p));
    expect({ message: m, problems }).toEqual({ message: m, problems: [] });
  }
});

it('follows model-events as text lines: --status is the state, SIGTERM stops it, --keep keeps a named subscription that a second run reuses', async () => {
  const [topic] = await h.pubsub.createTopic('model-events');
  const run = await startSubscribe(['--topic', 'model-events', '--model', 'mnist', '--status', 'failed', '--subscription', 'watch-failures', '--keep']);
  expect(run.out.stderr).toMatch(/as watch-failures, filter: attributes\.model = "mnist" AND attributes\.state = "FAILED"/);
  const events = pubsubModelEvents(pubsubPublisher(h.pubsub), topic.name);
  const at = '2026-12-01T10:00:00.000Z';
  const failed = { model: 'mnist', version: 'v1', from: 'VALIDATING', state: 'FAILED', at, reason: 'saved_model.pb is missing' } as const;
  await events.publish(failed);
  await events.publish(failed); // a second copy of the same event
  await events.publish({ model: 'mnist', version: 'v2', from: 'DEPLOYING', state: 'DEPLOYED', at, trafficPercent: 100 });
  await events.publish({ ...failed, model: 'other' });
  await h.waitFor('the failure to be printed', () => run.out.stdout.includes('FAILED'), 20_000);
  await new Promise((r) => setTimeout(r, 1500)); // the copy and the other events, had they been printed
  run.child.kill('SIGTERM');
  expect(await run.exited).toBe(0);
  expect(run.out.stdout).toBe(`${at} mnist/v1 VALIDATING -> FAILED (saved_model.pb is missing)\n`);
  expect(run.out.stderr).toMatch(/kept subscription watch-failures/);
  expect(await h.pubsub.subscription('watch-failures').exists()).toEqual([true]);

  const again = await startSubscribe(['--topic', 'model-events', '--subscription', 'watch-failures']);
  expect(again.out.stderr).toMatch(/as watch-failures \(existing\)/);
  again.child.kill('SIGINT');
  expect(await again.exited).toBe(0);
  expect(again.out.stderr).toMatch(/kept subscription watch-failures/);
  await h.pubsub.subscription('watch-failures').delete();
});
