import { Firestore } from '@google-cloud/firestore';
import { Storage } from '@google-cloud/storage';
import { JobServiceClient } from '@google-cloud/aiplatform';
import { vertexClientOptions } from '#shared/adapters/vertex-client-options';
import { silentLogger } from '#shared/logging/logger';
import { waitFor } from '#test/support/wait-for';
import { firestoreBatchChunks, firestoreBatchModels } from '#shared/labeling/adapters/firestore-batch-chunks';
import { firestoreLabelStore } from '#shared/labeling/adapters/firestore-label-store';
import { gcsBatchFiles } from '#shared/labeling/adapters/gcs-batch-files';
import { gcsObjectReader } from '#shared/labeling/adapters/gcs-object-reader';
import { vertexBatchJobs } from '#shared/labeling/adapters/vertex-batch-jobs';
import { followBatches, type BatchImportDeps } from '#shared/labeling/batch-import';
import { prepareBatchJob, type BatchPrepareDeps } from '#shared/labeling/batch-submit';
import { firestoreJobRoute } from '#shared/labeling/adapters/firestore-batch-chunks';
import { costInputs } from '#shared/labeling/cost/cost-inputs';
import { handleFinalizedImageObject, type IntakeDeps } from '#shared/labeling/intake';
import type { JobDoc, Progress, ResultPublisher } from '#shared/labeling/ports';
import { DEFAULT_PREPARE_LIMITS } from '#shared/labeling/core/prepare-image';
import { sharpImageCodec } from '#shared/labeling/adapters/sharp-image-codec';
import type { LabelResult } from '#shared/labeling/result';
import { encodeDigit, heldOutDigits } from '#local/model-build/mnist-digits';
import { requireEmulatorEnv } from '../../support/emulator-env';
import { BatchHarness } from '../vertex-emulator/batch-harness';
import { DEMO_MODEL_DIR, LOCATION, uploadModel } from '../vertex-emulator/harness';

/** Every message a publisher sent, and a switch that makes it fail (an importer crashing mid-file). */
class CapturingPublisher implements ResultPublisher {
  readonly results: LabelResult[] = [];
  readonly completed: Array<{ job: string; progress: Progress }> = [];
  failAfter = Infinity;
  async publishResult(r: LabelResult): Promise<void> {
    if (this.results.length >= this.failAfter) throw new Error('publisher down (simulated crash)');
    this.results.push(r);
  }
  async publishJobCompleted(job: JobDoc, progress: Progress): Promise<void> {
    this.completed.push({ job: job.job, progress });
  }
}

/**
 * The batch route on the emulators (shared Firestore, in-process Storage and Vertex AI with the
 * demo model): image-intake's half prepares images, records ERRORs for the unpreparable before
 * any job exists and writes keyed jsonl chunks; the follower submits one BatchPredictionJob per
 * chunk, follows it and imports its output into exactly one result per image, publishing each
 * once and announcing the job once, under duplicate delivery and an importer crash mid-file.
 */
describe('labeling: the batch route (BatchPredictionJobs)', () => {
  let h: BatchHarness;
  let db: Firestore;
  let storage: Storage;
  let jobsClient: JobServiceClient;
  const BUCKET = 'dropship-images';
  const MODEL = 'mnist-vit';
  const digits = heldOutDigits().filter((_, i) => i % 50 === 0); // 30 digits

  beforeAll(async () => {
    requireEmulatorEnv();
    h = await BatchHarness.start();
    db = new Firestore({ projectId: h.parent.split('/')[1] });
    storage = new Storage({ projectId: 'demo', apiEndpoint: h.storage.url });
    await h.createBucket(BUCKET);
    jobsClient = new JobServiceClient(vertexClientOptions({ VERTEX_LOCATION: LOCATION, VERTEX_API_ENDPOINT: h.vertex.endpoint }));
    const { model } = await uploadModel(h.clients, { parent: h.parent, artifactUri: DEMO_MODEL_DIR });
    await db.doc(`models/${MODEL}`).set({ vertexModel: model });
  });
  afterAll(async () => {
    await jobsClient?.close();
    await db?.terminate();
    await h?.close();
  });

  function deps(publisher: ResultPublisher, chunkSize: number): BatchPrepareDeps & BatchImportDeps {
    return {
      store: firestoreLabelStore(db),
      publisher,
      logger: silentLogger,
      publishLeaseMs: 300,
      rollupIntervalMs: 0,
      reader: gcsObjectReader(storage),
      chunks: firestoreBatchChunks(db),
      files: gcsBatchFiles(storage),
      jobs: vertexBatchJobs(jobsClient, h.parent),
      models: firestoreBatchModels(db),
      imageCodec: sharpImageCodec,
      limits: DEFAULT_PREPARE_LIMITS,
      chunkSize,
      readConcurrency: 4,
      batchSize: 8,
      pageLines: 4,
      tickBudgetMs: 60_000,
      chunkLeaseMs: 60_000,
    };
  }

  async function dropImages(job: string) {
    const refs = [];
    for (let i = 0; i < digits.length; i++) {
      const name = `${job}/digit-${i}.png`;
      await h.put(BUCKET, name, await encodeDigit(digits[i]!.pixels, 'png'));
      refs.push({ bucket: BUCKET, name });
    }
    await h.put(BUCKET, `${job}/broken.png`, 'not an image at all');
    refs.push({ bucket: BUCKET, name: `${job}/broken.png` }, { bucket: BUCKET, name: `${job}/missing.png` });
    return refs;
  }

  /** follower ticks until no chunk is left open (bounded: a job that never ends fails here, saying so) */
  async function followUntilDone(d: BatchImportDeps, timeoutMs = 120_000) {
    let last: Awaited<ReturnType<typeof followBatches>> | undefined;
    await waitFor(
      async () => {
        last = await followBatches(d);
        return last.followed === 0;
      },
      timeoutMs,
      'the batch follower to have no open chunk left',
      50,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; last tick: ${JSON.stringify(last)}`);
    });
  }

  async function storedResults(job: string) {
    const snap = await db.collection(`jobs/${job}/results`).get();
    return snap.docs.map((d) => d.data() as LabelResult);
  }

  it('labels every image once, ERRORs first for what cannot be prepared, under duplicate delivery and an importer crash mid-file', async () => {
    const job = 'batch-job-1';
    const refs = await dropImages(job);
    const store = firestoreLabelStore(db);
    await store.setJobTotal(job, refs.length, MODEL, `gs://${BUCKET}/${job}/_manifest.jsonl`);

    const pub = new CapturingPublisher();
    const d = deps(pub, 10);
    // Delivered twice at once: the second finds the work done or redoes it with the same bytes.
    const [a, b] = await Promise.all([prepareBatchJob(job, MODEL, refs, BUCKET, d), prepareBatchJob(job, MODEL, refs, BUCKET, d)]);
    expect(a.chunks).toBe(4);
    expect(b.chunks).toBe(4);
    // ERRORs for the unpreparable exist before any batch job does.
    const early = await storedResults(job);
    expect(early.map((r) => r.reason).sort()).toEqual(['NOT_AN_IMAGE', 'NOT_FOUND']);
    const [noJobs] = await jobsClient.listBatchPredictionJobs({ parent: h.parent });
    expect(noJobs).toHaveLength(0);

    // The importer crashes after publishing 7 results: it throws, its page is left half done.
    pub.failAfter = 2 + 7;
    await expect(followUntilDone(d)).rejects.toThrow(/publishing/);
    expect(pub.completed).toHaveLength(0);
    // Restarted (twice over, as a redelivered tick would): it resumes and finishes.
    pub.failAfter = Infinity;
    await Promise.all([followUntilDone(d), followUntilDone(d)]);
    await followUntilDone(d);

    const results = await storedResults(job);
    expect(results).toHaveLength(refs.length);
    expect(new Set(results.map((r) => r.imageUri)).size).toBe(refs.length);
    const ok = results.filter((r) => r.status === 'OK');
    expect(ok).toHaveLength(digits.length);
    const correct = ok.filter((r) => r.label === String(digits[Number(/digit-(\d+)/.exec(r.imageUri)![1])]!.label)).length;
    expect(correct).toBeGreaterThanOrEqual(27);
    expect(ok[0]!.model).toMatch(/\/models\//);
    // Every result published, none twice (no crash happened between a publish and its flag).
    expect(new Set(pub.results.map((r) => r.id)).size).toBe(refs.length);
    expect(pub.results).toHaveLength(refs.length);
    expect(pub.completed).toEqual([{ job, progress: { ok: digits.length, error: 2 } }]);
    // One Vertex AI job per chunk, even with two followers.
    const [jobs] = await jobsClient.listBatchPredictionJobs({ parent: h.parent });
    expect(jobs).toHaveLength(3);
    const doc = (await db.doc(`jobs/${job}`).get()).data();
    expect(doc?.state).toBe('COMPLETED');
  });

  it("a failed BatchPredictionJob gives each of its images an ERROR with the job's error", async () => {
    const job = 'batch-job-2';
    const refs = (await dropImages(job)).slice(0, 3);
    await firestoreLabelStore(db).setJobTotal(job, 3, MODEL, `gs://${BUCKET}/${job}/_manifest.jsonl`);
    const pub = new CapturingPublisher();
    const d = deps(pub, 10);
    await prepareBatchJob(job, MODEL, refs, BUCKET, d);
    // The instance file disappears before the job reads it: Vertex AI fails the job.
    const chunk = (await d.chunks.get(job, 1))!;
    await storage
      .bucket(BUCKET)
      .file(chunk.inputUri.slice(`gs://${BUCKET}/`.length))
      .delete();
    await followUntilDone(d);
    const results = await storedResults(job);
    expect(results).toHaveLength(3);
    for (const r of results) {
      expect(r).toMatchObject({ status: 'ERROR', reason: 'BATCH_JOB_FAILED' });
      expect(r.error).toContain('ended FAILED');
    }
    expect(pub.completed).toHaveLength(1);
  });

  it("ticks share chunks by lease (a crashed tick's runs out) and stop at their budget with the cursor saved", async () => {
    const job = 'batch-job-leases';
    const refs = (await dropImages(job)).slice(0, 20); // two chunks of 10 digits
    await firestoreLabelStore(db).setJobTotal(job, 20, MODEL, `gs://${BUCKET}/${job}/_manifest.jsonl`);
    const pub = new CapturingPublisher();
    const d = deps(pub, 10);
    await prepareBatchJob(job, MODEL, refs, BUCKET, d);

    // Another tick works chunk 1: ticks here leave it alone (not even submitted) and do chunk 2.
    expect(await d.chunks.claim(job, 1, 'another tick', Date.now(), 60_000)).toBeDefined();
    let last: Awaited<ReturnType<typeof followBatches>> | undefined;
    await waitFor(
      async () => {
        last = await followBatches(d);
        expect(last.leasedElsewhere).toBeGreaterThanOrEqual(1);
        return (await d.chunks.get(job, 2))?.state === 'IMPORTED';
      },
      60_000,
      'chunk 2 imported',
      50,
    );
    expect((await d.chunks.get(job, 1))?.state).toBe('PREPARED');
    expect(await storedResults(job)).toHaveLength(10);

    // That tick crashed: once its lease has run out, a tick takes the chunk over. The clock moves
    // one step a published result, against a budget of 6: the tick records two pages of 4 and stops.
    expect(await d.chunks.claim(job, 1, 'another tick', Date.now() - 120_000, 60_000)).toBeDefined(); // expired a minute ago
    let t = Date.now();
    const stepping = { now: () => t, sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)) };
    const steppingPub: ResultPublisher = {
      publishResult: async (r) => {
        t++;
        await pub.publishResult(r);
      },
      publishJobCompleted: (j, p) => pub.publishJobCompleted(j, p),
    };
    await waitFor(
      async () => {
        last = await followBatches({ ...d, publisher: steppingPub, clock: stepping, tickBudgetMs: 6 });
        return last.paused + last.imported > 0;
      },
      60_000,
      'chunk 1 taken up',
      50,
    );
    expect(last).toMatchObject({ paused: 1, imported: 0, leasedElsewhere: 0 });
    expect((await d.chunks.get(job, 1))?.cursor).toEqual({ file: 0, line: 8 });
    expect(await storedResults(job)).toHaveLength(18);
    expect(pub.completed).toHaveLength(0);

    // The next tick goes on from the cursor; nothing is recorded or published twice.
    await followUntilDone(d);
    const results = await storedResults(job);
    expect(results).toHaveLength(20);
    expect(pub.results).toHaveLength(20);
    expect(new Set(pub.results.map((r) => r.id)).size).toBe(20);
    expect(pub.completed).toEqual([{ job, progress: { ok: 20, error: 0 } }]);
  });

  it('image-intake routes a manifest by its "mode": batch jobs through the chunks (twice delivered), auto by the cost model, recorded on the job', async () => {
    const job = 'batch-job-3';
    const refs = (await dropImages(job)).slice(0, 5);
    const requests: unknown[] = [];
    const pub = new CapturingPublisher();
    const d = deps(pub, 2);
    const cfg = {
      ONLINE_MACHINE_TYPE: 'n1-standard-4',
      ONLINE_REPLICAS: 1,
      ONLINE_IMAGES_PER_SECOND_PER_REPLICA: 50,
      BATCH_MACHINE_TYPE: 'n1-standard-4',
      BATCH_MAX_NODES: 4,
      BATCH_IMAGES_PER_SECOND_PER_NODE: 50,
      BATCH_STARTUP_MINUTES: 15,
    };
    const intake: IntakeDeps = {
      ...d,
      requests: { publishRequest: async (body) => void requests.push(body) },
      defaultModel: MODEL,
      manifestChunkSize: 32,
      manifestMaxBytes: 1 << 20,
      eventLeaseMs: 5_000,
      batch: { prepare: d, costInputs: (n, deadline) => costInputs(cfg, n, deadline), recordRoute: firestoreJobRoute(db) },
    };
    const manifest = async (j: string, first: object, lines: string[]) => {
      const name = `${j}/_manifest.jsonl`;
      await storage
        .bucket(BUCKET)
        .file(name)
        .save([JSON.stringify(first), ...lines].join('\n'), { resumable: false });
      const [meta] = await storage.bucket(BUCKET).file(name).getMetadata();
      return { bucket: BUCKET, name, generation: String(meta.generation) };
    };
    const obj = await manifest(
      job,
      { model: MODEL, mode: 'batch' },
      refs.map((r) => JSON.stringify({ uri: `gs://${r.bucket}/${r.name}` })),
    );
    const outcomes = await Promise.all([handleFinalizedImageObject(obj, intake), handleFinalizedImageObject(obj, intake)]);
    expect(outcomes.sort()).toEqual(['duplicate', 'handled']);
    expect(requests).toHaveLength(0);
    expect((await db.doc(`jobs/${job}`).get()).get('route')).toEqual({ mode: 'batch', route: 'batch', reason: 'the job asks for batch' });
    await followUntilDone(d);
    const results = await storedResults(job);
    expect(results.filter((r) => r.status === 'OK')).toHaveLength(5);
    expect(pub.completed).toEqual([{ job, progress: { ok: 5, error: 0 } }]);
    // Vertex AI's output files landed in the images bucket under _batch/: intake ignores them.
    const [files] = await storage.bucket(BUCKET).getFiles({ prefix: `_batch/${job}/` });
    const out = files.find((f) => /predictions_00001\.jsonl$/.test(f.name))!;
    expect(await handleFinalizedImageObject({ bucket: BUCKET, name: out.name, generation: '1' }, intake)).toBe('ignored');

    // auto, 5 images, no deadline: online is far cheaper than starting batch nodes.
    const autoJob = 'auto-job-1';
    const autoObj = await manifest(
      autoJob,
      { model: MODEL, mode: 'auto' },
      refs.map((r) => JSON.stringify({ uri: `gs://${r.bucket}/${r.name}` })),
    );
    await handleFinalizedImageObject(autoObj, intake);
    expect(requests).toHaveLength(1);
    const route = (await db.doc(`jobs/${autoJob}`).get()).get('route') as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(route).toMatchObject({ mode: 'auto', route: 'online', reason: expect.stringMatching(/^online is cheaper/) });
    expect(route.estimate.batch.usd).toBeGreaterThan(route.estimate.online.usd);
  });
});
