import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Storage } from '@google-cloud/storage';
import type { StorageObjectData } from '@google/events/cloud/storage/v1/StorageObjectData';
import { silentLogger } from '#shared/logging/logger';
import { startStorageEmulator, type StorageEmulator } from '#local/storage-emulator/start';
import { uniqueProjectId } from '#test/support/emulator-env';
import { seedTitle, testRandom } from '#test/support/seeded-random';

const shuffleOrder = testRandom('storage-emulator events: shuffled delivery');

const FINALIZED = 'google.cloud.storage.object.v1.finalized';
const DELETED = 'google.cloud.storage.object.v1.deleted';

interface Received {
  headers: IncomingHttpHeaders;
  data: StorageObjectData & Record<string, unknown>;
}

/** An Eventarc-style destination on 127.0.0.1 that can refuse the first N deliveries. */
class Receiver {
  readonly events: Received[] = [];
  attempts = 0;
  failFirst = 0;
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.attempts++;
        if (this.attempts <= this.failFirst) {
          res.writeHead(503).end('not yet');
          return;
        }
        this.events.push({ headers: req.headers, data: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Received['data'] });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((ok) => this.server!.listen(0, '127.0.0.1', ok));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/`;
  }

  of(type: string): Received[] {
    return this.events.filter((e) => e.headers['ce-type'] === type);
  }

  reset(): void {
    this.events.length = 0;
    this.attempts = 0;
    this.failFirst = 0;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((ok) => (this.server ? this.server.close(() => ok()) : ok()));
  }
}

describe('storage emulator object events (Eventarc CloudEvents)', () => {
  let dataDir: string;
  let emulator: StorageEmulator;
  let storage: Storage;
  const receiver = new Receiver();
  const projectId = uniqueProjectId();

  const start = async () => {
    emulator = await startStorageEmulator({
      dataDir,
      settleMs: 150,
      rescanMs: 500,
      retry: { maxAttempts: 4, initialDelayMs: 20, maxDelayMs: 100, maxAgeMs: 5_000 },
      logger: silentLogger,
    });
    storage = new Storage({ apiEndpoint: emulator.url, projectId });
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'storage-emu-events-'));
    await receiver.start();
    await start();
    await storage.createBucket('events-bucket');
    await emulator.addNotification({ bucket: 'events-bucket', url: receiver.url });
  });

  beforeEach(() => receiver.reset());

  afterAll(async () => {
    await emulator?.stop();
    await receiver.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('sends finalized in binary mode with a StorageObjectData body, int64 fields as strings', async () => {
    const file = storage.bucket('events-bucket').file('models/m1/v1/saved_model.pb');
    await file.save('pb bytes', { contentType: 'application/octet-stream', metadata: { metadata: { owner: 'team-a' } } });
    const [meta] = await file.getMetadata();
    await emulator.idle();
    expect(receiver.events).toHaveLength(1);
    const { headers, data } = receiver.events[0]!;
    expect(headers).toMatchObject({
      'content-type': 'application/json',
      'ce-specversion': '1.0',
      'ce-id': expect.stringMatching(/^\d+$/),
      'ce-source': '//storage.googleapis.com/projects/_/buckets/events-bucket',
      'ce-type': FINALIZED,
      'ce-subject': 'objects/models/m1/v1/saved_model.pb',
      'ce-time': meta.updated,
    });
    expect(data).toMatchObject({
      kind: 'storage#object',
      bucket: 'events-bucket',
      name: 'models/m1/v1/saved_model.pb',
      generation: meta.generation,
      metageneration: '1',
      contentType: 'application/octet-stream',
      size: '8',
      md5Hash: meta.md5Hash,
      crc32c: meta.crc32c,
      metadata: { owner: 'team-a' },
      storageClass: 'STANDARD',
      id: `events-bucket/models/m1/v1/saved_model.pb/${meta.generation}`,
      timeCreated: meta.timeCreated,
      updated: meta.updated,
      etag: expect.any(String),
      selfLink: expect.any(String),
      mediaLink: expect.any(String),
    });
    for (const k of ['generation', 'metageneration', 'size'] as const) expect(typeof data[k]).toBe('string');
  });

  it('sends deleted on delete and on overwrite (no object versioning), and honours name prefixes', async () => {
    await emulator.addNotification({ bucket: 'events-bucket', url: `${receiver.url}only-images`, eventTypes: ['finalized'], objectNamePrefix: 'images/' });
    const bucket = storage.bucket('events-bucket');
    await bucket.file('docs/a.txt').save('1');
    const [first] = await bucket.file('docs/a.txt').getMetadata();
    await bucket.file('docs/a.txt').save('2');
    await bucket.file('docs/a.txt').delete();
    await bucket.file('images/cat.jpg').save('jpg');
    await emulator.idle();
    expect(receiver.of(DELETED).map((e) => e.data.name)).toEqual(['docs/a.txt', 'docs/a.txt']);
    expect(receiver.of(DELETED)[0]!.data.generation).toBe(first.generation);
    // images/cat.jpg goes to both subscriptions; docs/a.txt only to the first
    expect(
      receiver
        .of(FINALIZED)
        .map((e) => e.data.name)
        .sort(),
    ).toEqual(['docs/a.txt', 'docs/a.txt', 'images/cat.jpg', 'images/cat.jpg']);
  });

  it('retries a destination that fails, until it answers 2xx', async () => {
    receiver.failFirst = 2;
    await storage.bucket('events-bucket').file('retry/one.txt').save('x');
    await emulator.idle();
    expect(receiver.attempts).toBe(3);
    expect(receiver.events.map((e) => e.data.name)).toEqual(['retry/one.txt']);
  });

  it('dead-letters an event after the bounded attempts', async () => {
    receiver.failFirst = 1000;
    await storage.bucket('events-bucket').file('retry/never.txt').save('x');
    await emulator.idle();
    expect(receiver.attempts).toBe(4);
    const lines = (await readFile(join(dataDir, '.storage-emulator', 'dead-letter.jsonl'), 'utf8')).trim().split('\n');
    const last = JSON.parse(lines[lines.length - 1]!) as { attempts: number; lastFailure: string; data: { name: string } };
    expect(last).toMatchObject({ attempts: 4, lastFailure: 'HTTP 503', data: { name: 'retry/never.txt' } });
  });

  it(seedTitle('delivers every event N times in shuffled order when asked to', shuffleOrder), async () => {
    emulator.setDelivery({ duplicates: 3, shuffle: true, seed: shuffleOrder.seed });
    try {
      const names = Array.from({ length: 8 }, (_, i) => `dup/file-${i}.txt`);
      for (const n of names) await storage.bucket('events-bucket').file(n).save(n, { resumable: false });
      await emulator.idle();
      const got = receiver.of(FINALIZED).map((e) => e.data.name);
      expect([...got].sort()).toEqual(names.flatMap((n) => [n, n, n]).sort());
      // copies of one event share its id, as redeliveries do
      const ids = new Set(receiver.of(FINALIZED).map((e) => e.headers['ce-id']));
      expect(ids.size).toBe(names.length);
      // 24 deliveries of 8 events in upload order: the seeded shuffle draws the same, other order every run
      expect(got).not.toEqual(names.flatMap((n) => [n, n, n]));
    } finally {
      emulator.setDelivery({});
    }
  });

  it('takes a file copied straight into the folder as one upload, once it stops changing', async () => {
    const target = join(dataDir, 'events-bucket', 'dropped', 'photo.png');
    await rm(join(dataDir, 'events-bucket', 'dropped'), { recursive: true, force: true });
    await mkdir(join(dataDir, 'events-bucket', 'dropped'), { recursive: true });
    // written in three steps, 50 ms apart: still one finalize, for the whole content. These
    // pauses are the input (a copy still being written, inside the 150 ms settle window), not a wait.
    await writeFile(target, 'part1-');
    await sleep(50);
    await writeFile(target, 'part1-part2-', { flag: 'w' });
    await sleep(50);
    await writeFile(target, 'part1-part2-part3');
    await emulator.idle();
    const finals = receiver.of(FINALIZED);
    expect(finals).toHaveLength(1);
    expect(finals[0]!.data).toMatchObject({ name: 'dropped/photo.png', size: '17', contentType: 'image/png' });
    const [meta] = await storage.bucket('events-bucket').file('dropped/photo.png').getMetadata();
    expect(meta.generation).toBe(finals[0]!.data.generation);
    // the emulator's own writes are not taken again by the watcher. Asserting that nothing
    // happens has no event to wait on: give the watcher over four settle windows (150 ms) to
    // misfire, then look.
    await sleep(700);
    await emulator.idle();
    expect(receiver.of(FINALIZED)).toHaveLength(1);
    // new content is a new generation; removing the file is a delete
    await writeFile(target, 'changed');
    await emulator.idle();
    expect(receiver.of(FINALIZED)).toHaveLength(2);
    await rm(target);
    await emulator.idle();
    expect(receiver.of(DELETED).map((e) => e.data.name)).toContain('dropped/photo.png');
  });

  it('keeps objects, generations and subscriptions across a restart', async () => {
    const file = () => storage.bucket('events-bucket').file('persist/keep.txt');
    await file().save('kept', { resumable: false });
    const [before] = await file().getMetadata();
    await emulator.idle();
    await emulator.stop();
    await start();
    const [after] = await file().getMetadata();
    expect(after).toMatchObject({ generation: before.generation, md5Hash: before.md5Hash, size: '4' });
    expect((await file().download())[0].toString()).toBe('kept');
    receiver.reset();
    await file().save('new', { resumable: false });
    await emulator.idle();
    const [newer] = await file().getMetadata();
    expect(BigInt(newer.generation!)).toBeGreaterThan(BigInt(before.generation!));
    expect(receiver.of(FINALIZED).map((e) => e.data.generation)).toEqual([newer.generation]);
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
