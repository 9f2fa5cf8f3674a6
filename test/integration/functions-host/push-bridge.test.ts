import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PubSub, type Message } from '@google-cloud/pubsub';
import { Storage } from '@google-cloud/storage';
import { createTopology, type LocalTopology } from '#local/stack/create-topology';
import { startStorageEmulator, type StorageEmulator } from '#local/storage-emulator/start';
import { createLogger } from '#shared/logging/logger';
import type { Topology } from '#shared/topology';
import { requireEmulatorEnv, uniqueProjectId } from '#test/support/emulator-env';
import { waitFor } from '#test/support/wait-for';

/**
 * The local stack's Pub/Sub delivery (createTopology + push bridge) on the real Pub/Sub
 * emulator: messages reach the function in push format with up to its `concurrency` in flight
 * (the emulator's own push never has more than two), and a message the function keeps failing
 * is dead-lettered after the function's maxDeliveryAttempts.
 */
jest.setTimeout(180_000);

const CONCURRENCY = 4;
const MAX_ATTEMPTS = 5;
/** the backlog test: more messages than the slow function takes within one 10 s ack deadline */
const BACKLOG = 2_500;
const SLOW_MS = 15;
const project = uniqueProjectId('demo-bridge');
const topology: Topology = {
  buckets: { models: { purpose: '' }, images: { purpose: '' } },
  topics: [
    { name: 'work', deadLetterTopic: 'work-dead-letter', purpose: '' },
    { name: 'work-dead-letter', purpose: '' },
    { name: 'backlog', deadLetterTopic: 'work-dead-letter', purpose: '' },
  ],
  functions: [
    {
      name: 'worker',
      source: 'worker',
      trigger: { kind: 'pubsub', topic: 'work', maxDeliveryAttempts: MAX_ATTEMPTS },
      env: [],
      timeoutSeconds: 60,
      memory: '256Mi',
      concurrency: CONCURRENCY,
      retryOnFailure: true,
    },
    {
      name: 'slow',
      source: 'slow',
      trigger: { kind: 'pubsub', topic: 'backlog', maxDeliveryAttempts: MAX_ATTEMPTS },
      env: [],
      // the ack deadline: Pub/Sub's shortest
      timeoutSeconds: 10,
      memory: '256Mi',
      concurrency: CONCURRENCY,
      retryOnFailure: true,
    },
  ],
  schedules: [],
};

interface Push {
  message: { data: string; attributes: Record<string, string>; messageId: string; publishTime: string };
  subscription: string;
  deliveryAttempt?: number;
}

const received: Push[] = [];
/** messageId -> posts of the slow function */
const slowPosts = new Map<string, number>();
let inFlight = 0;
let maxInFlight = 0;
/** held requests: released together once the function has `CONCURRENCY` of them */
const held: Array<() => void> = [];
let server: Server;
let storageEmu: StorageEmulator;
let pubsub: PubSub;
let local: LocalTopology;
const dataDir = mkdtempSync(join(tmpdir(), 'bridge-test-'));

function readJson(req: IncomingMessage): Promise<Push> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Push));
  });
}

beforeAll(async () => {
  requireEmulatorEnv();
  server = createServer((req, res) => {
    void readJson(req).then((push) => {
      if (req.url === '/slow') {
        slowPosts.set(push.message.messageId, (slowPosts.get(push.message.messageId) ?? 0) + 1);
        setTimeout(() => res.writeHead(204).end(), SLOW_MS);
        return;
      }
      received.push(push);
      if (push.message.attributes.fail) {
        res.writeHead(500).end();
        return;
      }
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      held.push(() => {
        inFlight--;
        res.writeHead(204).end();
      });
      // Hold each request until the function is full (or a while passed), so concurrent
      // deliveries show up as concurrent requests however fast the machine is.
      if (held.length >= CONCURRENCY) for (const release of held.splice(0)) release();
      else setTimeout(() => held.length && held.splice(0).forEach((release) => release()), 3_000);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  storageEmu = await startStorageEmulator({ dataDir, logger: createLogger({ component: 'test', minSeverity: 'CRITICAL' }) });
  pubsub = new PubSub({ projectId: project });
  local = await createTopology({
    project,
    pubsub,
    storage: new Storage({ apiEndpoint: storageEmu.url, projectId: project }),
    notifications: storageEmu,
    buckets: { models: 'bridge-models', images: 'bridge-images' },
    functionUrls: { worker: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, slow: `http://127.0.0.1:${(server.address() as AddressInfo).port}/slow` },
    topology,
  });
});

afterAll(async () => {
  await local?.close();
  await pubsub?.close();
  await storageEmu?.stop();
  await new Promise((r) => server?.close(r));
  rmSync(dataDir, { recursive: true, force: true });
});

test('messages arrive in push format, with up to the function concurrency in flight and never more', async () => {
  const topic = pubsub.topic('work');
  const ids = await Promise.all(Array.from({ length: 3 * CONCURRENCY }, (_, i) => topic.publishMessage({ data: Buffer.from(`m${i}`), attributes: { n: String(i) } })));
  await waitFor(() => local.bridges.worker!.counts.acked >= ids.length, 60_000, `the worker bridge to ack all ${ids.length} messages`, 50);
  expect(local.bridges.worker!.counts.acked).toBeGreaterThanOrEqual(ids.length);
  expect(maxInFlight).toBe(CONCURRENCY);
  const first = received.find((p) => p.message.attributes.n === '0')!;
  expect(first).toEqual({
    message: { data: Buffer.from('m0').toString('base64'), attributes: { n: '0' }, messageId: ids[0], publishTime: expect.any(String) },
    subscription: `projects/${project}/subscriptions/worker-push`,
    deliveryAttempt: 1,
  });
  expect(Number.isNaN(Date.parse(first.message.publishTime))).toBe(false);
});

test(`a message the function keeps failing is dead-lettered after ${MAX_ATTEMPTS} attempts`, async () => {
  const [tap] = await pubsub.topic('work-dead-letter').createSubscription('dead-letter-tap');
  const dead: Message[] = [];
  tap.on('message', (m: Message) => {
    dead.push(m);
    m.ack();
  });
  try {
    const id = await pubsub.topic('work').publishMessage({ data: Buffer.from('bad'), attributes: { fail: '1' } });
    await waitFor(() => dead.length > 0, 90_000, 'the failing message on the dead-letter topic', 50);
    expect(dead.length).toBeGreaterThan(0);
    expect(dead.map((m) => m.data.toString())).toEqual(['bad']);
    const attempts = received.filter((p) => p.message.messageId === id).map((p) => p.deliveryAttempt);
    expect(attempts).toEqual(Array.from({ length: MAX_ATTEMPTS }, (_, i) => i + 1));
  } finally {
    await tap.close();
  }
});

test('a backlog longer than an ack deadline is delivered once per message: none waits leased until it expires', async () => {
  // Prepare: BACKLOG messages waiting, which a function taking SLOW_MS each at CONCURRENCY
  // works off in about 10 s, the subscription's ack deadline. A bridge that leased more than it
  // posts (the client's streaming pull, which the emulator hands the whole backlog) let leased
  // messages expire and come again: duplicates, and the emulator's CPU on its retry queue.
  const topic = pubsub.topic('backlog');
  const ids: string[] = [];
  for (let i = 0; i < BACKLOG; i += 500) ids.push(...(await Promise.all(Array.from({ length: 500 }, (_, j) => topic.publishMessage({ data: Buffer.from(`b${i + j}`) })))));
  // Act: wait until every message was posted, and a while longer for late copies
  await waitFor(() => slowPosts.size >= BACKLOG, 100_000, `all ${BACKLOG} backlog messages posted`, 100);
  await new Promise((r) => setTimeout(r, 12_000));
  // Assert: each exactly once
  expect(slowPosts.size).toBe(BACKLOG);
  expect([...slowPosts.values()].filter((n) => n > 1)).toEqual([]);
  expect(new Set(ids).size).toBe(BACKLOG);
});
