import { encodeDigit, heldOutDigits, MIXED_DIGIT_SHAPES } from '#local/model-build/mnist-digits';
import { predictStats } from '#functions/predict-worker/predict-stats';
import { instanceRequestBytes, REQUEST_OVERHEAD_BYTES } from '#shared/labeling/core/pack-instances';
import { hugeBlackPng } from '#local/model-build/image-fixtures';
import { IMAGES_BUCKET, MODEL, PipelineHarness } from './pipeline-harness';

jest.setTimeout(240_000);

const h = new PipelineHarness();
const digits = heldOutDigits();

interface DigitFile {
  name: string;
  bytes: Buffer;
  label: number;
  pixels: Float32Array;
}

/** Every third held-out digit from `offset`: 500 of the 1,500, all ten classes, as PNG and JPEG of mixed sizes. */
async function digitFiles(job: string, offset: number, count = 500): Promise<DigitFile[]> {
  const shapes = MIXED_DIGIT_SHAPES;
  const out: DigitFile[] = [];
  for (let i = 0; i < count; i++) {
    const d = digits[offset + 3 * i]!;
    const shape = shapes[i % shapes.length]!;
    const bytes = await encodeDigit(d.pixels, shape.format, { size: shape.size, quality: 90 });
    out.push({ name: `${job}/batch-${i % 7}/digit-${d.index}.${shape.format === 'png' ? 'png' : 'jpg'}`, bytes, label: d.label, pixels: d.pixels });
  }
  return out;
}

function snapshotStats() {
  return { ...predictStats };
}

function efficiency(before: typeof predictStats, files: Buffer[]) {
  const n = files.length;
  const baselineBytes = files.reduce((s, b) => s + REQUEST_OVERHEAD_BYTES + instanceRequestBytes(b.length), 0);
  return {
    images: n,
    callsPerImage: (predictStats.calls - before.calls) / n,
    refusedCalls: predictStats.failedCalls - before.failedCalls,
    requestBytesPerImage: Math.round((predictStats.requestBytes - before.requestBytes) / n),
    baselineCallsPerImage: 1,
    baselineRequestBytesPerImage: Math.round(baselineBytes / n),
  };
}

async function expectFolderJobLabeled(job: string, files: DigitFile[]) {
  await h.waitFor(
    `${files.length} results in ${job}`,
    async () => (await h.resultCount(job)) >= files.length,
    180_000,
    async () => `${await h.resultCount(job)} so far`,
  );
  await h.settle();
  const results = await h.results(job);
  expect(results).toHaveLength(files.length);
  expect(results.filter((r) => r.status !== 'OK').map((r) => [r.imageUri, r.error])).toEqual([]);
  const messages = h.messagesFor(job);
  expect(messages).toHaveLength(files.length);
  expect(new Set(messages.map((m) => m.body.id)).size).toBe(files.length);
  expect(new Set(messages.map((m) => m.body.imageUri))).toEqual(new Set(files.map((f) => `gs://${IMAGES_BUCKET}/${f.name}`)));
  for (const m of messages.slice(0, 5)) expect(m.attributes).toMatchObject({ job, status: 'OK', label: m.body.label });

  const byUri = new Map(results.map((r) => [r.imageUri as string, r]));
  const labels = files.map((f) => String(byUri.get(`gs://${IMAGES_BUCKET}/${f.name}`)!.label));
  const accuracy = labels.filter((l, i) => l === String(files[i]!.label)).length / files.length;
  // The demo model's own held-out accuracy on these digits, at its native 28x28.
  const native = await h.directLabels(await Promise.all(files.map((f) => encodeDigit(f.pixels, 'png'))));
  const heldOutAccuracy = native.filter((l, i) => l === String(files[i]!.label)).length / files.length;
  const direct = await h.directLabels(files.map((f) => f.bytes));
  const agreement = labels.filter((l, i) => l === direct[i]).length / files.length;
  process.stdout.write(`${JSON.stringify({ job, accuracy, heldOutAccuracy, agreementWithDirectPredict: agreement })}\n`);
  expect(Math.abs(accuracy - heldOutAccuracy)).toBeLessThanOrEqual(0.01);
  expect(agreement).toBeGreaterThanOrEqual(0.99);

  const counters = await h.db.collection(`jobs/${job}/counters`).get();
  const counted = counters.docs.reduce((s, d) => ({ ok: s.ok + Number(d.get('ok') ?? 0), error: s.error + Number(d.get('error') ?? 0) }), { ok: 0, error: 0 });
  expect(counted).toEqual({ ok: files.length, error: 0 });
}

beforeAll(async () => {
  await h.start({ PREDICT_RETRY_BUDGET_MS: '20000', PREDICT_BACKOFF_INITIAL_MS: '50', PREDICT_BACKOFF_MAX_MS: '1000', MANIFEST_CHUNK_SIZE: '32', PUBLISH_LEASE_MS: '10000' });
}, 120_000);

afterAll(async () => {
  await h.stop();
});

describe(`labeling pipeline on the emulators (seed ${h.faultDraws.seed}; replay with TEST_SEED)`, () => {
  let firstJobFiles: DigitFile[] = [];

  it('labels 500 held-out digits dropped as PNG and JPEG files: one result and one message each, as accurate as the model', async () => {
    firstJobFiles = await digitFiles('digits-a', 0);
    const before = snapshotStats();
    await h.uploadAll(firstJobFiles);
    await expectFolderJobLabeled('digits-a', firstJobFiles);
    const job = await h.db.doc('jobs/digits-a').get();
    expect(job.get('model')).toBe(MODEL);
    process.stdout.write(
      `${JSON.stringify({
        efficiency: 'digits-a (folder drop)',
        ...efficiency(
          before,
          firstJobFiles.map((f) => f.bytes),
        ),
      })}\n`,
    );
  });

  it('still gives exactly one result per image when every event and every request arrives twice and 10% of predict calls are refused', async () => {
    const files = await digitFiles('digits-b', 1);
    h.storageEmulator.setDelivery({ duplicates: 2, shuffle: true, seed: h.faultDraws.seed });
    h.vertex.setFaults({ predictErrorRate: 0.1 });
    const before = snapshotStats();
    try {
      await h.duplicateRequests(async () => {
        await h.uploadAll(files);
        await expectFolderJobLabeled('digits-b', files);
      });
    } finally {
      h.storageEmulator.setDelivery({ duplicates: 1, shuffle: false });
      h.vertex.setFaults({});
    }
    const stats = efficiency(
      before,
      files.map((f) => f.bytes),
    );
    process.stdout.write(`${JSON.stringify({ efficiency: 'digits-b (duplicated events, 10% refused)', ...stats })}\n`);
    expect(stats.refusedCalls).toBeGreaterThan(0);
  });

  it('labels a manifest of 200 URIs with the total known, counts that add up, and one job-completed message', async () => {
    const listed = firstJobFiles.slice(0, 200).map((f) => `gs://${IMAGES_BUCKET}/${f.name}`);
    const lines = [JSON.stringify({ model: MODEL }), ...listed.map((u, i) => (i % 2 ? JSON.stringify({ uri: u }) : JSON.stringify(u)))];
    const before = snapshotStats();
    await h.upload('manifest-job/_manifest.jsonl', Buffer.from(lines.join('\n') + '\n'));
    await h.waitFor(
      'the job to complete',
      async () => (await h.db.doc('jobs/manifest-job').get()).get('state') === 'COMPLETED',
      120_000,
      async () => JSON.stringify((await h.db.doc('jobs/manifest-job').get()).data()),
    );
    await h.settle();
    const job = (await h.db.doc('jobs/manifest-job').get()).data()!;
    expect(job).toMatchObject({ total: 200, state: 'COMPLETED', counts: { ok: 200, error: 0 }, model: MODEL });
    expect(await h.resultCount('manifest-job')).toBe(200);
    expect(h.messagesFor('manifest-job')).toHaveLength(200);
    const completed = h.messagesFor('manifest-job', 'job-completed');
    expect(completed).toHaveLength(1);
    expect(completed[0]!.body).toMatchObject({ job: 'manifest-job', total: 200, counts: { ok: 200, error: 0 } });
    process.stdout.write(
      `${JSON.stringify({
        efficiency: 'manifest-job (200 URIs)',
        ...efficiency(
          before,
          firstJobFiles.slice(0, 200).map((f) => f.bytes),
        ),
      })}\n`,
    );
  });

  it('gives each bad input exactly one ERROR result with a reason, and finishes the rest', async () => {
    const good = await Promise.all([0, 1, 2].map((i) => encodeDigit(digits[2 + 3 * i]!.pixels, 'png', { size: 56 })));
    const jpeg = await encodeDigit(digits[5]!.pixels, 'jpeg', { size: 280 });
    const bad: Record<string, { bytes: Buffer; reason: string }> = {
      'bad-folder/zero.jpg': { bytes: Buffer.alloc(0), reason: 'EMPTY' },
      'bad-folder/notes.jpg': { bytes: Buffer.from('these are my notes, not a photo\n'), reason: 'NOT_AN_IMAGE' },
      'bad-folder/truncated.jpg': { bytes: jpeg.subarray(0, Math.floor(jpeg.length * 0.6)), reason: 'CORRUPT_IMAGE' },
      'bad-folder/huge.png': { bytes: hugeBlackPng(30_000, 30_000), reason: 'TOO_MANY_PIXELS' },
      'bad-folder/drawing.svg': { bytes: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="28" height="28"><circle cx="14" cy="14" r="9"/></svg>'), reason: 'UNSUPPORTED_FORMAT' },
    };
    await h.uploadAll([...Object.entries(bad).map(([name, b]) => ({ name, bytes: b.bytes })), ...good.map((bytes, i) => ({ name: `bad-folder/good-${i}.png`, bytes }))]);
    const manifest = [`gs://${IMAGES_BUCKET}/bad-folder/good-0.png`, `gs://${IMAGES_BUCKET}/bad-folder/good-1.png`, 'http://example.com/cat.jpg', `gs://${IMAGES_BUCKET}/nowhere/missing.png`];
    await h.upload('bad-manifest/_manifest.txt', Buffer.from(manifest.join('\n')));

    await h.waitFor('8 results in bad-folder', async () => (await h.resultCount('bad-folder')) >= 8, 60_000);
    await h.waitFor('bad-manifest to complete', async () => (await h.db.doc('jobs/bad-manifest').get()).get('state') === 'COMPLETED', 60_000);
    await h.settle();

    const folder = await h.results('bad-folder');
    expect(folder).toHaveLength(8);
    const byName = new Map(folder.map((r) => [String(r.imageUri).replace(`gs://${IMAGES_BUCKET}/`, ''), r]));
    for (const [name, b] of Object.entries(bad)) {
      expect({ name, status: byName.get(name)?.status, reason: byName.get(name)?.reason }).toEqual({ name, status: 'ERROR', reason: b.reason });
      expect(String(byName.get(name)!.error).length).toBeGreaterThan(10);
    }
    for (let i = 0; i < 3; i++) expect(byName.get(`bad-folder/good-${i}.png`)).toMatchObject({ status: 'OK' });
    expect(h.messagesFor('bad-folder')).toHaveLength(8);
    expect(h.messagesFor('bad-folder').filter((m) => m.attributes.status === 'ERROR')).toHaveLength(5);

    const fromManifest = await h.results('bad-manifest');
    expect(fromManifest.map((r) => [r.status, r.reason]).sort()).toEqual([
      ['ERROR', 'BAD_MANIFEST_LINE'],
      ['ERROR', 'NOT_FOUND'],
      ['OK', null],
      ['OK', null],
    ]);
    const job = (await h.db.doc('jobs/bad-manifest').get()).data()!;
    expect(job).toMatchObject({ total: 4, state: 'COMPLETED', counts: { ok: 2, error: 2 } });
    expect(h.messagesFor('bad-manifest', 'job-completed')).toHaveLength(1);
  });

  it('dead-letters a request that always fails and records its images as ERROR', async () => {
    // One request: the gcloud Pub/Sub emulator stalls push redelivery when several messages fail together.
    await h.upload('orphans/_job.json', Buffer.from(JSON.stringify({ model: 'never-deployed' })));
    await h.storageEmulator.idle();
    await h.upload('orphans/digit.png', await encodeDigit(digits[8]!.pixels, 'png'));
    await h.waitFor('a dead-lettered result', async () => (await h.resultCount('orphans')) >= 1, 90_000);
    await h.settle();
    const results = await h.results('orphans');
    expect(results.map((r) => [r.status, r.reason, r.modelName, r.imageUri])).toEqual([['ERROR', 'DEAD_LETTERED', 'never-deployed', `gs://${IMAGES_BUCKET}/orphans/digit.png`]]);
    expect(String(results[0]!.error)).toContain('never-deployed');
    expect(h.messagesFor('orphans')).toHaveLength(1);
    expect((await h.db.collection('jobs/orphans/counters').get()).docs.reduce((n, d) => n + Number(d.get('error') ?? 0), 0)).toBe(1);
  });
});
