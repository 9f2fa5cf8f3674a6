import type { ObjectRef } from '#shared/labeling/core/gs-uri';
import { manifestChunks, type ManifestChunk } from '#shared/labeling/core/manifest';
import { handleFinalizedImageObject, type FinalizedObject, type IntakeDeps } from '#shared/labeling/intake';
import { ManifestContinues } from '#shared/labeling/manifest-intake';
import type { BatchChunk, BatchChunkStore, BatchFiles } from '#shared/labeling/ports';
import { FakeMsClock } from '#test/support/fakes/clock';
import { unavailable } from '#test/support/fakes/faults';
import { FakeImageCodec, FakeObjectReader, fakeImage } from '#test/support/fakes/labeling/images';
import { FakeLabelStore } from '#test/support/fakes/labeling/label-store';
import { FakeManifestCheckpoints } from '#test/support/fakes/labeling/manifest-checkpoints';
import { FakeRequestPublisher } from '#test/support/fakes/labeling/request-publisher';
import { FakeResultPublisher } from '#test/support/fakes/labeling/result-publisher';
import { capturedLogger } from '#test/support/fakes/logs';

const BUCKET = 'images';
const CHUNK = 32;
const EVERY = 4;

async function* linesOf(text: string): AsyncIterable<string> {
  yield* text.split('\n');
}

async function cut(text: string, size: number): Promise<ManifestChunk[]> {
  const out: ManifestChunk[] = [];
  for await (const c of manifestChunks(linesOf(text), 'txt', size)) if (!('options' in c)) out.push(c);
  return out;
}

describe('manifestChunks', () => {
  it('cuts chunks of `size` images with the bad lines among them, the same cut on every reading', async () => {
    // Prepare
    const text = ['{"model": "m"}', 'gs://bkt/1', 'bad', 'gs://bkt/2', 'gs://bkt/1', 'gs://bkt/3', '', 'gs://bkt/4', 'gs://bkt/5'].join('\n');
    // Act
    const [first, again] = [await cut(text, 2), await cut(text, 2)];
    // Assess
    expect(first.map((c) => [c.index, c.entries.map((e) => e.ref.name), c.bad.map((b) => b.line), c.duplicates])).toEqual([
      [0, ['1', '2'], [3], 0],
      [1, ['3', '4'], [], 1],
      [2, ['5'], [], 0],
    ]);
    expect(again).toEqual(first);
  });

  it('cuts a manifest of nothing but bad lines into bounded chunks', async () => {
    // Prepare
    const text = Array.from({ length: 2500 }, (_, i) => `bad ${i}`).join('\n');
    // Act
    const chunks = await cut(text, 32);
    // Assess
    expect(chunks.map((c) => c.bad.length)).toEqual([1000, 1000, 500]);
  });
});

/** image-intake's manifest stream on in-memory fakes: chunked, checkpointed, resumed. */
describe('a manifest taken in as a stream', () => {
  let clock: FakeMsClock;
  let store: FakeLabelStore;
  let reader: FakeObjectReader;
  let requests: FakeRequestPublisher;
  let checkpoints: FakeManifestCheckpoints;
  let deps: IntakeDeps;

  beforeEach(() => {
    clock = new FakeMsClock();
    store = new FakeLabelStore(() => clock.now());
    reader = new FakeObjectReader();
    requests = new FakeRequestPublisher();
    checkpoints = new FakeManifestCheckpoints();
    deps = {
      store,
      publisher: new FakeResultPublisher(),
      logger: capturedLogger().log,
      publishLeaseMs: 30_000,
      rollupIntervalMs: 0,
      clock,
      reader,
      requests,
      defaultModel: 'digits',
      manifestChunkSize: CHUNK,
      manifestMaxBytes: 10_000_000,
      eventLeaseMs: 60_000,
      manifestCheckpoints: checkpoints,
      manifestCheckpointEvery: EVERY,
    };
  });

  const manifest = (job: string, lines: number, extra: string[] = []): FinalizedObject =>
    reader.put(BUCKET, `${job}/_manifest.txt`, Buffer.from([...Array.from({ length: lines }, (_, i) => `gs://${BUCKET}/${job}/${i}.jpg`), ...extra].join('\n')));
  /** how often each image went out, over every request */
  const sentCount = () => {
    const n = new Map<string, number>();
    for (const s of requests.sent) for (const i of (s.body as { images: ObjectRef[] }).images) n.set(i.name, (n.get(i.name) ?? 0) + 1);
    return n;
  };
  /** delivers the event again while it throws, as Eventarc does; returns how many deliveries it took */
  const deliverUntilDone = async (obj: FinalizedObject) => {
    for (let deliveries = 1; deliveries <= 50; deliveries++) {
      try {
        await handleFinalizedImageObject(obj, deps);
        return deliveries;
      } catch {
        clock.advance(1_000);
      }
    }
    throw new Error('the manifest did not finish in 50 deliveries');
  };

  it('takes in 20,000 lines chunk by chunk: the reader is never more than one window ahead of what went out', async () => {
    // Prepare
    const obj = manifest('big', 20_000);
    const ahead: number[] = [];
    const publish = requests.publishRequest.bind(requests);
    requests.publishRequest = async (body, attributes) => {
      // lines of the second reading (the first only counts) beyond the chunks already sent
      ahead.push(reader.linesYielded - 20_000 - requests.sent.length * CHUNK);
      await publish(body, attributes);
    };
    // Act
    await handleFinalizedImageObject(obj, deps);
    // Assess
    expect(await store.getJob('big')).toMatchObject({ total: 20_000 });
    expect(requests.sent).toHaveLength(625);
    expect([...sentCount().values()].every((n) => n === 1)).toBe(true);
    expect(sentCount().size).toBe(20_000);
    expect(Math.max(...ahead)).toBeLessThanOrEqual(EVERY * CHUNK);
    expect(requests.sent[3]!.attributes).toEqual({ job: 'big', model: 'digits', images: '32', manifest: 'big/_manifest.txt#' + obj.generation, manifestChunk: '3' });
    // the first checkpoint before any request, then one per window of EVERY chunks
    expect(checkpoints.writes.map((w) => w.chunksDone)).toEqual([0, ...Array.from({ length: 156 }, (_, i) => (i + 1) * EVERY), 625]);
  });

  it('a delivery past its time budget checkpoints and the redelivery resumes: every line goes out once', async () => {
    // Prepare
    const obj = manifest('slow', 2_000);
    deps.manifestTimeBudgetMs = 10_000;
    const publish = requests.publishRequest.bind(requests);
    requests.publishRequest = async (body, attributes) => {
      clock.advance(500); // each request takes half a second of the budget
      await publish(body, attributes);
    };
    const thrown: unknown[] = [];
    // Act
    for (let i = 0; i < 20; i++) {
      try {
        await handleFinalizedImageObject(obj, deps);
        break;
      } catch (err) {
        thrown.push(err);
      }
    }
    // Assess
    expect(thrown.length).toBeGreaterThan(1);
    expect(thrown.every((e) => e instanceof ManifestContinues)).toBe(true);
    expect(sentCount().size).toBe(2_000);
    expect([...sentCount().values()].every((n) => n === 1)).toBe(true);
    expect(await store.getJob('slow')).toMatchObject({ total: 2_000 });
  });

  it('a crash mid-manifest resumes from the checkpoint: only the window in flight goes out again, with the same chunk keys', async () => {
    // Prepare
    const obj = manifest('crash', 2_000, ['not a uri']);
    let calls = 0;
    const publish = requests.publishRequest.bind(requests);
    requests.publishRequest = async (body, attributes) => {
      if (++calls === 30) throw unavailable('publish lost');
      await publish(body, attributes);
    };
    // Act
    const deliveries = await deliverUntilDone(obj);
    // Assess
    expect(deliveries).toBe(2);
    expect(sentCount().size).toBe(2_000);
    const byChunk = new Map<string, unknown[]>();
    for (const s of requests.sent) byChunk.set(s.attributes.manifestChunk!, [...(byChunk.get(s.attributes.manifestChunk!) ?? []), s.body]);
    expect(byChunk.size).toBe(Math.ceil(2_000 / CHUNK));
    const resent = [...byChunk.entries()].filter(([, bodies]) => bodies.length > 1);
    // the 30th request was in the 8th window (chunks 28..31): at most those were sent twice, each the same request
    expect(resent.every(([k, bodies]) => Number(k) >= 28 && Number(k) < 32 && bodies.length === 2 && JSON.stringify(bodies[0]) === JSON.stringify(bodies[1]))).toBe(true);
    expect(store.resultsOf('crash')).toEqual([expect.objectContaining({ reason: 'BAD_MANIFEST_LINE' })]);
  });

  it('a read stream that breaks mid-manifest resumes without losing lines', async () => {
    // Prepare
    const obj = manifest('torn', 1_000);
    const publish = requests.publishRequest.bind(requests);
    let broken = false;
    requests.publishRequest = async (body, attributes) => {
      if (!broken && requests.sent.length === 10) {
        broken = true;
        reader.faults.failNext('readLine', unavailable('stream reset'));
      }
      await publish(body, attributes);
    };
    // Act
    const deliveries = await deliverUntilDone(obj);
    // Assess
    expect(deliveries).toBe(2);
    expect(sentCount().size).toBe(1_000);
  });

  it('a duplicate delivery of a taken-in manifest sends nothing, reads nothing, writes no checkpoint', async () => {
    // Prepare
    const obj = manifest('twice', 500);
    await handleFinalizedImageObject(obj, deps);
    const [sent, lines, writes] = [requests.sent.length, reader.linesYielded, checkpoints.writes.length];
    // Act
    const outcome = await handleFinalizedImageObject(obj, deps);
    // Assess
    expect(outcome).toBe('duplicate');
    expect([requests.sent.length, reader.linesYielded, checkpoints.writes.length]).toEqual([sent, lines, writes]);
  });

  it('a new generation of the manifest is a new intake, not a resume of the old checkpoint', async () => {
    // Prepare
    await handleFinalizedImageObject(manifest('again', 100), deps);
    // Act
    await handleFinalizedImageObject(manifest('again', 100), deps);
    // Assess
    expect([...sentCount().values()].every((n) => n === 2)).toBe(true);
  });

  describe('on the batch route', () => {
    let chunks: Map<string, BatchChunk>;
    let files: Map<string, string>;
    let writes: number;
    let failWriteAt: number | undefined;

    beforeEach(() => {
      chunks = new Map();
      files = new Map();
      writes = 0;
      failWriteAt = undefined;
      const chunkStore: BatchChunkStore = {
        get: async (job, n) => chunks.get(`${job}~${n}`),
        put: async (c) => void chunks.set(`${c.job}~${c.chunk}`, JSON.parse(JSON.stringify(c)) as BatchChunk),
        open: async () => [...chunks.values()].filter((c) => c.state !== 'IMPORTED'),
        claim: () => Promise.reject(new Error('intake never leases a chunk')),
        release: () => Promise.reject(new Error('intake never leases a chunk')),
      };
      const batchFiles: BatchFiles = {
        write: async (uri, body) => {
          if (++writes === failWriteAt) throw unavailable('write lost');
          files.set(uri, body.toString());
        },
        list: async () => [],
        read: async (uri) => Buffer.from(files.get(uri) ?? ''),
      };
      deps.batch = {
        prepare: { reader, imageCodec: new FakeImageCodec(), chunks: chunkStore, files: batchFiles, chunkSize: 50, readConcurrency: 4 },
        costInputs: () => {
          throw new Error('not asked: the job says batch');
        },
        recordRoute: async () => undefined,
      };
    });

    it('prepares one instance file per chunk; a crash mid-manifest resumes and every image is in exactly one chunk', async () => {
      // Prepare
      const names = Array.from({ length: 420 }, (_, i) => reader.put(BUCKET, `b/${i}.jpg`, fakeImage(String(i % 10))).name);
      const obj = reader.put(BUCKET, 'b/_manifest.txt', Buffer.from(['{"mode": "batch"}', ...names.map((n) => `gs://${BUCKET}/${n}`)].join('\n')));
      failWriteAt = 4;
      // Act
      const deliveries = await deliverUntilDone(obj);
      // Assess
      expect(deliveries).toBe(2);
      expect(requests.sent).toEqual([]);
      const keys = [...chunks.values()].flatMap((c) => c.images.map((i) => i.imageUri));
      expect(chunks.size).toBe(Math.ceil(420 / 50));
      expect(keys).toHaveLength(420);
      expect(new Set(keys).size).toBe(420);
      expect(checkpoints.writes.at(-1)).toMatchObject({ route: 'batch', chunksDone: 9, images: 420, total: 420 });
    });
  });
});
