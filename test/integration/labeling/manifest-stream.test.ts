import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Firestore } from '@google-cloud/firestore';
import { PubSub } from '@google-cloud/pubsub';
import { Storage } from '@google-cloud/storage';
import { startStorageEmulator, type StorageEmulator } from '#local/storage-emulator/start';
import { pubsubPublisher } from '#shared/adapters/pubsub-publisher';
import { firestoreLabelStore } from '#shared/labeling/adapters/firestore-label-store';
import { firestoreManifestCheckpoints } from '#shared/labeling/adapters/firestore-manifest-checkpoints';
import { gcsObjectReader } from '#shared/labeling/adapters/gcs-object-reader';
import { requestPublisher } from '#shared/labeling/adapters/pubsub-publishers';
import { handleFinalizedImageObject, type FinalizedObject, type IntakeDeps } from '#shared/labeling/intake';
import type { ResultPublisher } from '#shared/labeling/ports';
import { createLogger } from '#shared/logging/logger';
import { requireEmulatorEnv, uniqueProjectId } from '#test/support/emulator-env';

// A manifest of 20,000 lines through image-intake's real adapters: read from the Storage
// emulator's read stream line by line, checkpointed in the Firestore emulator, its requests
// published to the Pub/Sub emulator; a crash mid-manifest and a duplicate delivery.

requireEmulatorEnv();
const BUCKET = 'dropship-images';
const LINES = 20_000;
const CHUNK = 32;
const projectId = uniqueProjectId('demo-manifest-stream');
const db = new Firestore({ projectId });
const pubsub = new PubSub({ projectId });
let emulator: StorageEmulator;
let storage: Storage;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'manifest-stream-'));
  emulator = await startStorageEmulator({ dataDir: dir, logger: createLogger({ component: 'test-emulator', minSeverity: 'ERROR' }) });
  storage = new Storage({ projectId, apiEndpoint: emulator.url });
  await storage.createBucket(BUCKET);
  await pubsub.createTopic('prediction-requests');
});

afterAll(async () => {
  await Promise.all([db.terminate(), pubsub.close(), emulator.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

/** what went out on prediction-requests (recorded once the emulator took each message) */
interface Sent {
  chunk: string;
  images: string[];
}

function intake(sent: Sent[], failPublishAt?: number): IntakeDeps {
  const topic = requestPublisher(pubsubPublisher(pubsub), 'prediction-requests');
  let calls = 0;
  const noResults: ResultPublisher = { async publishResult() {}, async publishJobCompleted() {} };
  return {
    store: firestoreLabelStore(db),
    publisher: noResults,
    logger: createLogger({ component: 'test', minSeverity: 'CRITICAL' }),
    publishLeaseMs: 30_000,
    rollupIntervalMs: 0,
    reader: gcsObjectReader(storage),
    requests: {
      async publishRequest(body, attributes) {
        if (++calls === failPublishAt) throw Object.assign(new Error('14 UNAVAILABLE: injected crash'), { code: 14 });
        await topic.publishRequest(body, attributes);
        sent.push({ chunk: attributes.manifestChunk!, images: (body as { images: Array<{ name: string }> }).images.map((i) => i.name) });
      },
    },
    defaultModel: 'digits',
    manifestChunkSize: CHUNK,
    manifestMaxBytes: 64 * 1024 * 1024,
    eventLeaseMs: 60_000,
    manifestCheckpoints: firestoreManifestCheckpoints(db),
    manifestCheckpointEvery: 16,
  };
}

async function upload(job: string): Promise<FinalizedObject> {
  const text = Array.from({ length: LINES }, (_, i) => `gs://${BUCKET}/${job}/${i}.png`).join('\n');
  const file = storage.bucket(BUCKET).file(`${job}/_manifest.txt`);
  await file.save(text, { resumable: false });
  const [meta] = await file.getMetadata();
  return { bucket: BUCKET, name: file.name, generation: String(meta.generation) };
}

describe('a 20,000-line manifest on the emulators', () => {
  it('is streamed in chunks; a crash mid-manifest resumes from the checkpoint and every line goes out; a duplicate delivery sends nothing', async () => {
    // Prepare
    const obj = await upload('stream-job');
    const sent: Sent[] = [];
    // Act: the 200th request fails (a crash mid-manifest), the redelivery resumes, then a duplicate
    await expect(handleFinalizedImageObject(obj, intake(sent, 200))).rejects.toThrow('injected crash');
    const checkpoint = (await db.doc('jobs/stream-job').get()).get('manifestIntake') as { chunksDone: number; total: number };
    const beforeResume = sent.length;
    await handleFinalizedImageObject(obj, intake(sent));
    const afterResume = sent.length;
    const duplicate = await handleFinalizedImageObject(obj, intake(sent));
    // Assess
    expect(checkpoint).toMatchObject({ total: LINES, chunksDone: 192 }); // 12 windows of 16 chunks before the 200th request
    expect(beforeResume).toBe(192 + 15); // the window's other requests went out beside the failed one
    expect(afterResume - beforeResume).toBe(625 - 192); // the resume starts at the checkpoint, not at chunk 0
    const perLine = new Map<string, number>();
    for (const s of sent) for (const n of s.images) perLine.set(n, (perLine.get(n) ?? 0) + 1);
    expect(perLine.size).toBe(LINES);
    // lines of chunks sent twice are only those of the window in flight at the crash (192..207)
    const twice = sent.filter((s) => s.images.some((n) => perLine.get(n) !== 1)).map((s) => Number(s.chunk));
    expect(twice.every((c) => c >= 192 && c < 208)).toBe(true);
    expect(duplicate).toBe('duplicate');
    expect(sent.length).toBe(afterResume);
    expect((await db.doc('jobs/stream-job').get()).data()).toMatchObject({ total: LINES, manifestIntake: { chunksDone: 625, images: LINES, route: 'online' } });
  }, 120_000);
});
