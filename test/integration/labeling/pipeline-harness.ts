import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Firestore } from '@google-cloud/firestore';
import { PubSub, type Message, type Subscription } from '@google-cloud/pubsub';
import { Storage } from '@google-cloud/storage';
import { helpers, v1 } from '@google-cloud/aiplatform';
import { vertexClientOptions } from '#shared/adapters/vertex-client-options';
import { serveFunction, type ServedFunction } from '#local/functions-host/serve-function';
import { startStorageEmulator, type StorageEmulator } from '#local/storage-emulator/start';
import { deployDirectly } from '#local/vertex-emulator/deploy-directly';
import { startVertexEmulator, type VertexEmulator } from '#local/vertex-emulator/start';
import { createLogger } from '#shared/logging/logger';
import { requireEmulatorEnv, uniqueProjectId } from '../../support/emulator-env';
import { testRandom, type TestRandom } from '../../support/seeded-random';

export const IMAGES_BUCKET = 'dropship-images';
export const MODEL = 'mnist-vit';
const DEMO_MODEL_DIR = resolve(__dirname, '..', '..', '..', 'local', 'demo-model', 'mnist-vit');

export interface ResultMessage {
  body: Record<string, unknown>;
  attributes: Record<string, string>;
}

/**
 * The whole labeling pipeline on one machine: the gcloud Pub/Sub and Firestore emulators (from
 * jest's globalSetup), the project's Storage and Vertex AI emulators in-process, the three
 * functions served like Cloud Run functions, wired with push subscriptions and dead-letter
 * policies as terraform wires them, and the demo model deployed on an endpoint.
 */
export class PipelineHarness {
  readonly projectId = uniqueProjectId('demo-labeling');
  /** which predict calls an injected error rate refuses, and the shuffled delivery order: the same every run */
  readonly faultDraws: TestRandom = testRandom('labeling pipeline: injected faults and delivery order');
  db!: Firestore;
  pubsub!: PubSub;
  storage!: Storage;
  storageEmulator!: StorageEmulator;
  vertex!: VertexEmulator;
  predictionClient!: InstanceType<typeof v1.PredictionServiceClient>;
  endpoint!: string;
  readonly messages: ResultMessage[] = [];
  private served: ServedFunction[] = [];
  private tap?: Subscription;
  private readonly dirs: string[] = [];

  async start(env: Record<string, string> = {}): Promise<void> {
    requireEmulatorEnv();
    const storageDir = this.tempDir('storage');
    const quiet = createLogger({ component: 'test-emulator', minSeverity: 'ERROR' });
    this.storageEmulator = await startStorageEmulator({ dataDir: storageDir, logger: quiet });
    this.vertex = await startVertexEmulator({ dataDir: this.tempDir('vertex'), lroDelayMs: 50, intraOpNumThreads: 1, faultRandom: this.faultDraws.next, logger: quiet });
    Object.assign(process.env, {
      GOOGLE_CLOUD_PROJECT: this.projectId,
      GCLOUD_PROJECT: this.projectId,
      VERTEX_LOCATION: 'us-central1',
      VERTEX_API_ENDPOINT: this.vertex.endpoint,
      STORAGE_EMULATOR_HOST: this.storageEmulator.url,
      IMAGES_BUCKET,
      DEFAULT_MODEL: MODEL,
      PREDICTION_REQUESTS_TOPIC: 'prediction-requests',
      PREDICTION_RESULTS_TOPIC: 'prediction-results',
      LOG_LEVEL: process.env.LABELING_LOG_LEVEL ?? 'ERROR',
      // The emulator's own push (used here) has two deliveries in flight, so images reach the
      // worker one by one and each would wait the whole coalescing window (200 ms) alone.
      PREDICT_COALESCE_MS: '25',
      ...env,
    });
    this.db = new Firestore({ projectId: this.projectId });
    this.pubsub = new PubSub({ projectId: this.projectId });
    this.storage = new Storage({ projectId: this.projectId, apiEndpoint: this.storageEmulator.url });
    await this.storage.createBucket(IMAGES_BUCKET);

    await import('#functions/image-intake/index');
    await import('#functions/predict-worker/index');
    await import('#functions/dead-letter-recorder/index');
    const topicPath = (t: string) => `projects/${this.projectId}/topics/${t}`;
    const intake = await serveFunction('image-intake');
    const worker = await serveFunction('predict-worker', { pubsubSource: topicPath('prediction-requests') });
    const recorder = await serveFunction('dead-letter-recorder', { pubsubSource: topicPath('prediction-requests-dead-letter') });
    this.served.push(intake, worker, recorder);

    const [requests] = await this.pubsub.createTopic('prediction-requests');
    const [deadLetters] = await this.pubsub.createTopic('prediction-requests-dead-letter');
    const [results] = await this.pubsub.createTopic('prediction-results');
    await requests.createSubscription('predict-worker', {
      pushConfig: { pushEndpoint: worker.url },
      ackDeadlineSeconds: 60,
      deadLetterPolicy: { deadLetterTopic: deadLetters.name, maxDeliveryAttempts: 5 },
      retryPolicy: { minimumBackoff: { seconds: 1 }, maximumBackoff: { seconds: 2 } } as never,
    });
    await deadLetters.createSubscription('dead-letter-recorder', { pushConfig: { pushEndpoint: recorder.url }, ackDeadlineSeconds: 60 });
    [this.tap] = await results.createSubscription('results-tap', { ackDeadlineSeconds: 60 });
    this.tap.on('message', (m: Message) => {
      this.messages.push({ body: JSON.parse(m.data.toString('utf8')) as Record<string, unknown>, attributes: { ...m.attributes } });
      m.ack();
    });
    await this.storageEmulator.addNotification({ bucket: IMAGES_BUCKET, url: intake.url, eventTypes: ['google.cloud.storage.object.v1.finalized'] });

    this.endpoint = await this.deployDemoModel();
    await this.db.doc(`models/${MODEL}`).set({ endpoint: this.endpoint });
    this.predictionClient = new v1.PredictionServiceClient(vertexClientOptions({ VERTEX_LOCATION: 'us-central1', VERTEX_API_ENDPOINT: this.vertex.endpoint }));
  }

  /** Deploys local/demo-model/mnist-vit with the official client, as the model-drop side would. */
  private async deployDemoModel(): Promise<string> {
    const opts = vertexClientOptions({ VERTEX_LOCATION: 'us-central1', VERTEX_API_ENDPOINT: this.vertex.endpoint });
    const parent = `projects/${this.projectId}/locations/us-central1`;
    const { endpoint } = await deployDirectly(opts, { parent, modelId: MODEL, displayName: MODEL, artifactUri: `file://${DEMO_MODEL_DIR}` });
    return endpoint;
  }

  /** What the endpoint answers for these exact bytes, asked directly, one call per 32 images. */
  async directLabels(files: Buffer[]): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < files.length; i += 32) {
      const request = {
        endpoint: this.endpoint,
        instances: files.slice(i, i + 32).map((b) => helpers.toValue({ string_input: { b64: b.toString('base64') } })!),
      };
      for (let attempt = 1; ; attempt++) {
        try {
          const [res] = await this.predictionClient.predict(request);
          for (const p of res.predictions ?? []) out.push(String((helpers.fromValue(p as never) as { label: string }).label));
          break;
        } catch (err) {
          // injected 429/503 faults may still be on
          if (attempt >= 10 || ![8, 14].includes((err as { code?: number }).code ?? 0)) throw err;
        }
      }
    }
    return out;
  }

  async upload(name: string, bytes: Buffer, contentType?: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.storage
          .bucket(IMAGES_BUCKET)
          .file(name)
          .save(bytes, { resumable: false, ...(contentType ? { contentType } : {}) });
        return;
      } catch (err) {
        // A dropped connection is not what these tests are about; a finalize fires only on success.
        if (attempt >= 3 || !/ECONNRESET|socket hang up/.test(String(err))) throw err;
      }
    }
  }

  async uploadAll(files: Array<{ name: string; bytes: Buffer }>, concurrency = 8): Promise<void> {
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < files.length) {
          const f = files[next++]!;
          await this.upload(f.name, f.bytes);
        }
      }),
    );
  }

  async results(job: string): Promise<Array<Record<string, unknown>>> {
    const snap = await this.db.collection(`jobs/${job}/results`).get();
    return snap.docs.map((d) => ({ ...d.data(), docId: d.id }));
  }

  async resultCount(job: string): Promise<number> {
    const snap = await this.db.collection(`jobs/${job}/results`).count().get();
    return snap.data().count;
  }

  /**
   * Publishes a second copy of every prediction request the intake sends while `until` is
   * pending, so the worker sees each request twice (as a Pub/Sub redelivery would deliver it).
   */
  async duplicateRequests<T>(until: () => Promise<T>): Promise<T> {
    const topic = this.pubsub.topic('prediction-requests');
    const [tap] = await topic.createSubscription(`requests-tap-${Date.now()}`, { ackDeadlineSeconds: 60 });
    const copies: Promise<string>[] = [];
    tap.on('message', (m: Message) => {
      if (m.attributes.duplicate !== 'true') copies.push(topic.publishMessage({ data: m.data, attributes: { ...m.attributes, duplicate: 'true' } }));
      m.ack();
    });
    try {
      return await until();
    } finally {
      await tap.close();
      await Promise.all(copies);
      await tap.delete();
    }
  }

  messagesFor(job: string, type = 'result'): ResultMessage[] {
    return this.messages.filter((m) => m.attributes.job === job && m.attributes.type === type);
  }

  /** Polls until `done()` holds, or fails with `describe()` after the timeout. */
  async waitFor(what: string, done: () => Promise<boolean> | boolean, timeoutMs: number, describe?: () => Promise<string> | string): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if (await done()) return;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`timed out waiting for ${what}${describe ? `: ${await describe()}` : ''}`);
  }

  /** Waits until nothing new has arrived for a while, so late duplicates would be seen. */
  async settle(quietMs = 2000): Promise<void> {
    await this.storageEmulator.idle();
    let last = -1;
    while (last !== this.messages.length) {
      last = this.messages.length;
      await new Promise((r) => setTimeout(r, quietMs));
    }
  }

  async stop(): Promise<void> {
    await this.tap?.close().catch(() => undefined);
    await Promise.all(this.served.map((s) => s.close()));
    await this.storageEmulator?.stop();
    await this.vertex?.stop();
    await this.predictionClient?.close().catch(() => undefined);
    await this.pubsub?.close();
    await this.db?.terminate();
    for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
  }

  private tempDir(what: string): string {
    const d = mkdtempSync(join(tmpdir(), `dropship-labeling-${what}-`));
    this.dirs.push(d);
    return d;
  }
}
