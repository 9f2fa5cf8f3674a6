import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { EndpointServiceClient, ModelServiceClient, PredictionServiceClient } from '@google-cloud/aiplatform';
import { Firestore } from '@google-cloud/firestore';
import { PubSub, type Message } from '@google-cloud/pubsub';
import { Storage } from '@google-cloud/storage';
import { vertexClientOptions } from '#shared/adapters/vertex-client-options';
import { createLogger } from '#shared/logging/logger';
import { createDeploymentContext } from '#shared/deployment/adapters/deployment-context';
import type { VersionRecord } from '#shared/deployment/core/records';
import type { ModelEvent } from '#shared/deployment/ports';
// Registering the functions reads no config: each parses its env on its first event.
import '#functions/model-drop/index';
import '#functions/reconciler/index';
import { serveFunction, type ServedFunction } from '#local/functions-host/serve-function';
import { startStorageEmulator, type StorageEmulator } from '#local/storage-emulator/start';
import { startVertexEmulator, type VertexEmulator } from '#local/vertex-emulator/start';
import { requireEmulatorEnv, uniqueProjectId } from '../../support/emulator-env';
import { testRandom } from '../../support/seeded-random';
import { waitFor } from '../../support/wait-for';

export const MODELS_BUCKET = 'models';
export const LOCATION = 'us-central1';
export const DEMO_MODEL_DIR = join(__dirname, '..', '..', '..', 'local', 'demo-model', 'mnist-vit');

/**
 * The deployment half of the local stack for one test file: Storage and Vertex AI emulators
 * in-process, model-drop wired as the models bucket's notification, the reconciler behind a
 * push subscription on reconcile-ticks, and a pull subscription on model-events.
 */
export async function startDeploymentStack(opts: { lroDelayMs?: number } = {}) {
  requireEmulatorEnv();
  const projectId = uniqueProjectId('demo-deploy');
  const dataDir = mkdtempSync(join(tmpdir(), 'dropship-deploy-'));
  const quiet = createLogger({ component: 'test', minSeverity: 'ERROR' });
  const storageEmulator: StorageEmulator = await startStorageEmulator({ dataDir: join(dataDir, 'gcs'), settleMs: 200, logger: quiet });
  const vertexEmulator: VertexEmulator = await startVertexEmulator({
    dataDir: join(dataDir, 'vertex'),
    gcsRoot: join(dataDir, 'gcs'),
    lroDelayMs: opts.lroDelayMs ?? 500,
    intraOpNumThreads: 1,
    faultRandom: faultDraws.next,
    logger: quiet,
  });
  Object.assign(process.env, {
    GOOGLE_CLOUD_PROJECT: projectId,
    VERTEX_LOCATION: LOCATION,
    VERTEX_API_ENDPOINT: vertexEmulator.endpoint,
    STORAGE_EMULATOR_HOST: storageEmulator.url,
    MODELS_BUCKET,
    MODEL_EVENTS_TOPIC: 'model-events',
    UPLOAD_WAIT_SECONDS: '20',
    LEASE_SECONDS: '20',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'ERROR',
  });
  const modelDrop: ServedFunction = await serveFunction('model-drop');
  const reconciler: ServedFunction = await serveFunction('reconciler');

  const storage = new Storage({ projectId, apiEndpoint: storageEmulator.url });
  await storage.createBucket(MODELS_BUCKET);
  await storageEmulator.addNotification({ bucket: MODELS_BUCKET, url: modelDrop.url, eventTypes: ['google.cloud.storage.object.v1.finalized'] });

  const pubsub = new PubSub({ projectId });
  const [ticks] = await pubsub.createTopic('reconcile-ticks');
  await ticks.createSubscription('reconcile-push', { pushConfig: { pushEndpoint: reconciler.url }, ackDeadlineSeconds: 60 });
  const [events] = await pubsub.createTopic('model-events');
  const [eventsSub] = await events.createSubscription('model-events-test');
  const modelEvents: ModelEvent[] = [];
  eventsSub.on('message', (m: Message) => {
    modelEvents.push(JSON.parse(m.data.toString()) as ModelEvent);
    m.ack();
  });

  const firestore = new Firestore({ projectId });
  const clientOptions = vertexClientOptions({ VERTEX_LOCATION: LOCATION, VERTEX_API_ENDPOINT: vertexEmulator.endpoint });
  const models = new ModelServiceClient(clientOptions);
  const endpoints = new EndpointServiceClient(clientOptions);
  const prediction = new PredictionServiceClient(clientOptions);
  const ctx = createDeploymentContext(
    { GOOGLE_CLOUD_PROJECT: projectId, VERTEX_LOCATION: LOCATION, VERTEX_API_ENDPOINT: vertexEmulator.endpoint, MODEL_EVENTS_TOPIC: 'model-events', LEASE_SECONDS: 20 },
    quiet,
  );
  const parent = `projects/${projectId}/locations/${LOCATION}`;

  let ticker: NodeJS.Timeout | undefined;
  const stack = {
    projectId,
    parent,
    storage,
    storageEmulator,
    vertexEmulator,
    firestore,
    models,
    endpoints,
    prediction,
    ctx,
    modelEvents,
    /** Cloud Scheduler's job: a tick on reconcile-ticks every `ms` */
    startTicking(ms = 400) {
      ticker ??= setInterval(() => void ticks.publishMessage({ json: { at: new Date().toISOString() } }).catch(() => undefined), ms);
    },
    /** one tick, as the scheduler sends it */
    async tick() {
      await ticks.publishMessage({ json: { at: new Date().toISOString() } });
    },
    /** waits for a CANARY_ANALYSIS version's rollout to reach one of `phases` */
    async waitForPhase(model: string, version: string, phases: string[], timeoutMs = 60_000): Promise<VersionRecord> {
      let last: VersionRecord | undefined;
      await waitFor(async () => {
        last = await stack.version(model, version);
        return !!last?.rollout && phases.includes(last.rollout.phase);
      }, timeoutMs).catch(() => undefined); // the message below says more
      if (!last?.rollout || !phases.includes(last.rollout.phase))
        throw new Error(`${model}/${version} rollout is ${last?.rollout?.phase ?? 'absent'} (${last?.state}), expected ${phases.join('|')}: ${JSON.stringify(last?.history)}`);
      return last;
    },
    stopTicking() {
      if (ticker) clearInterval(ticker);
      ticker = undefined;
    },
    async version(model: string, version: string): Promise<VersionRecord | undefined> {
      const snap = await firestore.doc(`models/${model}/versions/${version}`).get();
      return snap.data() as VersionRecord | undefined;
    },
    async waitForState(model: string, version: string, states: string[], timeoutMs = 120_000): Promise<VersionRecord> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const v = await stack.version(model, version);
        if (v && states.includes(v.state)) return v;
        if (Date.now() > deadline) throw new Error(`${model}/${version} is ${v?.state ?? 'absent'} after ${timeoutMs} ms, expected ${states.join('|')}: ${JSON.stringify(v?.error ?? v?.history)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    /** uploads files (relative path -> bytes) one by one, in the given order; returns when the last one landed */
    async upload(model: string, version: string, files: Array<[string, Buffer | Uint8Array | string]>): Promise<number> {
      for (const [path, bytes] of files) {
        const file = storage.bucket(MODELS_BUCKET).file(`${model}/${version}/${path}`);
        // A keep-alive socket the server just closed resets the request; the client does not
        // retry uploads without a precondition, so the test does (a person would re-run the copy).
        for (let attempt = 1; ; attempt++) {
          try {
            await file.save(Buffer.from(bytes as Uint8Array), { resumable: false });
            break;
          } catch (err) {
            if (attempt >= 3 || !String((err as Error).message).includes('ECONNRESET')) throw err;
          }
        }
      }
      return Date.now();
    },
    async vertexModelsNamed(model: string) {
      const [list] = await models.listModels({ parent });
      return list.filter((m) => m.name?.endsWith(`/models/${model}`));
    },
    async stop() {
      stack.stopTicking();
      await eventsSub.close().catch(() => undefined);
      await Promise.allSettled([modelDrop.close(), reconciler.close()]);
      await storageEmulator.stop();
      await vertexEmulator.stop();
      await Promise.allSettled([ctx.close(), firestore.terminate(), pubsub.close(), models.close(), endpoints.close(), prediction.close()]);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return stack;
}

export type DeploymentStack = Awaited<ReturnType<typeof startDeploymentStack>>;

/** The demo SavedModel's files (relative path -> bytes). */
export function demoModelFiles(): Array<[string, Buffer]> {
  const out: Array<[string, Buffer]> = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else out.push([relative(DEMO_MODEL_DIR, full).split('\\').join('/'), readFileSync(full)]);
    }
  };
  walk(DEMO_MODEL_DIR);
  return out;
}

/** The upload order of a test's files, and the shuffled delivery of their events: the same on every run. */
export const deliveryOrder = testRandom('deployment stack: upload and delivery order');
/** which Vertex AI calls an injected error rate fails, and with which code */
export const faultDraws = testRandom('deployment stack: injected faults');
/** "(seeds: upload order N, faults M)" for a describe title, so a failure says how to replay it */
export const seedsNote = `seeds: upload and delivery order ${deliveryOrder.seed}, faults ${faultDraws.seed}; replay one with TEST_SEED`;

export function shuffled<T>(items: T[]): T[] {
  return deliveryOrder.shuffled(items);
}

/** Waits until `cond` holds (messages arrive a little after the state they report); fails past the bound, naming it. */
export { waitFor };
