import { countedResults } from './job-counters';
import { mkdirSync } from 'node:fs';
import { availableParallelism, setPriority } from 'node:os';
import { join } from 'node:path';
import { Firestore } from '@google-cloud/firestore';
import { PubSub, type Message, type Subscription } from '@google-cloud/pubsub';
import { Storage } from '@google-cloud/storage';
import { freePort } from '#local/emulators/process-group';
import { startFirestoreEmulator, startPubsubEmulator, type RunningEmulator } from '#local/emulators/gcloud-emulators';
import { createTopology, type LocalTopology } from '#local/stack/create-topology';
import { functionEnv } from '#local/stack/function-env';
import { LOCAL_BUCKETS, LOCAL_PROJECT, LOCAL_REGION } from '#local/stack/local-names';
import { startScheduleTimers } from '#local/stack/reconcile-timer';
import { startStorageEmulator, type StorageEmulator } from '#local/storage-emulator/start';
import { startVertexEmulator, type VertexEmulator } from '#local/vertex-emulator/start';
import { createLogger } from '#shared/logging/logger';
import { TOPOLOGY } from '#shared/topology';
import { startDuplicatingProxy, type DuplicatingProxy } from './duplicating-proxy';
import { FunctionChild } from './function-child';
import { reniceTrees } from './renice';

export interface BenchStackOptions {
  /** a fresh folder: emulator data and logs go under it */
  dataDir: string;
  /** how long the Vertex AI emulator's operations take */
  lroDelayMs: number;
  /** how often the reconciler ticks */
  tickMs?: number;
  /** ONNX Runtime threads of the Vertex AI emulator's models (default: every core) */
  endpointThreads?: number;
  /** environment for the predict worker on top of the stack's (e.g. its batching knobs) */
  workerEnv?: Record<string, string>;
  /** deliver every prediction request push to the worker this many times at once */
  workerPushCopies?: number;
  /**
   * `nice` given to everything but the endpoint's model threads by deprioritizeAllButModels
   * (default 10).
   */
  nice?: number;
  say: (line: string) => void;
}

/** A result message seen on prediction-results. */
export interface TappedMessage {
  /** Pub/Sub's id: the same on a redelivery of one published message, new on a second publish */
  messageId: string;
  body: Record<string, unknown>;
  attributes: Record<string, string>;
}

/**
 * The local stack as `dropship up` builds it (gcloud Pub/Sub and Firestore emulators, the
 * Storage and Vertex AI emulators, every function of TOPOLOGY wired by createTopology), except
 * that the functions run in child processes: the predict worker alone in one, so its memory
 * can be measured and it can be killed mid-batch; the other functions in another. A pull
 * subscription taps prediction-results so duplicates would be seen.
 */
export class BenchStack {
  readonly project = LOCAL_PROJECT;
  readonly buckets = LOCAL_BUCKETS;
  db!: Firestore;
  pubsub!: PubSub;
  storage!: Storage;
  storageEmulator!: StorageEmulator;
  vertex!: VertexEmulator;
  worker!: FunctionChild;
  functions!: FunctionChild;
  proxy: DuplicatingProxy | undefined;
  readonly messages: TappedMessage[] = [];
  private emulators: RunningEmulator[] = [];
  private vertexPort = 0;
  private tap: Subscription | undefined;
  private topology: LocalTopology | undefined;
  private timers: { stop(): void } | undefined;
  private readonly quiet = createLogger({ component: 'bench-emulator', minSeverity: 'CRITICAL' });

  constructor(private readonly opts: BenchStackOptions) {}

  private dir(name: string): string {
    const d = join(this.opts.dataDir, name);
    mkdirSync(d, { recursive: true });
    return d;
  }

  get logDir(): string {
    return this.dir('logs');
  }

  private get nice(): number {
    return this.opts.nice ?? 10;
  }

  /**
   * On Google Cloud the endpoint has machines of its own; here its model threads share two
   * cores with the emulators and the functions, and at equal priority a burst of uploads takes
   * a model's core away mid-run. This lowers the rest to `nice` (default 10): every thread of
   * the gcloud emulators' process groups and of the function processes (a restarted child
   * starts at normal priority again), and this process's main thread (the Storage emulator, the
   * push bridges, the uploads, the Vertex AI emulator's request handling). Linux keeps nice per
   * thread: the model threads the Vertex AI emulator started before this call keep theirs, and
   * so do this process's libuv pool threads (sharp's decoding for the emulator, file I/O). Call
   * it once the measured model is loaded, after every other figure: nothing restores it.
   */
  deprioritizeAllButModels(): number {
    const pids = [this.worker.pid, this.functions.pid].filter((p): p is number => p !== undefined);
    const threads = reniceTrees({ pids, groups: this.emulators.map((e) => e.process.pid) }, this.nice);
    setPriority(process.pid, this.nice);
    return threads + 1;
  }

  async start(): Promise<void> {
    const { say } = this.opts;
    say('starting the Pub/Sub, Firestore, Storage and Vertex AI emulators...');
    const logDir = this.logDir;
    const started = await Promise.allSettled([startPubsubEmulator({ project: LOCAL_PROJECT, logDir }), startFirestoreEmulator({ logDir })]);
    for (const r of started) if (r.status === 'fulfilled') this.emulators.push(r.value);
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    const [pubsubEmu, firestoreEmu] = this.emulators as [RunningEmulator, RunningEmulator];
    this.storageEmulator = await startStorageEmulator({ dataDir: this.dir('storage'), logger: this.quiet });
    this.vertexPort = await freePort();
    await this.startVertex();

    const { env } = functionEnv({
      project: LOCAL_PROJECT,
      region: LOCAL_REGION,
      pubsubEmulatorHost: pubsubEmu.hostPort,
      firestoreEmulatorHost: firestoreEmu.hostPort,
      storageUrl: this.storageEmulator.url,
      vertexEndpoint: this.vertex.endpoint,
      buckets: LOCAL_BUCKETS,
    });
    // This process talks to the same emulators through the official clients.
    Object.assign(process.env, { PUBSUB_EMULATOR_HOST: env.PUBSUB_EMULATOR_HOST, FIRESTORE_EMULATOR_HOST: env.FIRESTORE_EMULATOR_HOST, METADATA_SERVER_DETECTION: 'none' });

    say('starting the functions (the predict worker in a process of its own)...');
    const childEnv = { ...process.env, ...env, LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'INFO', NODE_OPTIONS: '' };
    const topicPath = (t: string) => `projects/${LOCAL_PROJECT}/topics/${t}`;
    const spec = async (name: string) => {
      const fn = TOPOLOGY.functions.find((f) => f.name === name)!;
      return { name, source: fn.source, port: await freePort(), ...(fn.trigger.kind === 'pubsub' ? { pubsubSource: topicPath(fn.trigger.topic) } : {}) };
    };
    this.worker = new FunctionChild('predict-worker', [await spec('predict-worker')], { ...childEnv, ...this.opts.workerEnv }, join(logDir, 'predict-worker.log'));
    const others = await Promise.all(TOPOLOGY.functions.filter((f) => f.name !== 'predict-worker').map((f) => spec(f.name)));
    this.functions = new FunctionChild('functions', others, childEnv, join(logDir, 'functions.log'));
    await Promise.all([this.worker.start(), this.functions.start()]);

    const functionUrls: Record<string, string> = Object.fromEntries(others.map((s) => [s.name, this.functions.url(s.name)]));
    functionUrls['predict-worker'] = this.worker.url('predict-worker');
    if ((this.opts.workerPushCopies ?? 1) > 1) {
      this.proxy = await startDuplicatingProxy(() => this.worker.url('predict-worker'), this.opts.workerPushCopies);
      functionUrls['predict-worker'] = this.proxy.url;
    }

    say('creating buckets, topics, subscriptions and triggers...');
    this.db = new Firestore({ projectId: LOCAL_PROJECT });
    this.pubsub = new PubSub({ projectId: LOCAL_PROJECT });
    this.storage = new Storage({ apiEndpoint: this.storageEmulator.url, projectId: LOCAL_PROJECT });
    this.topology = await createTopology({ project: LOCAL_PROJECT, pubsub: this.pubsub, storage: this.storage, notifications: this.storageEmulator, buckets: LOCAL_BUCKETS, functionUrls });
    [this.tap] = await this.pubsub.topic('prediction-results').createSubscription('bench-results-tap', { ackDeadlineSeconds: 60 });
    this.tap.on('message', (m: Message) => {
      this.messages.push({ messageId: m.id, body: JSON.parse(m.data.toString('utf8')) as Record<string, unknown>, attributes: { ...m.attributes } });
      m.ack();
    });
    this.timers = startScheduleTimers(this.pubsub, this.opts.tickMs ?? 1000);
  }

  private async startVertex(): Promise<void> {
    this.vertex = await startVertexEmulator({
      port: this.vertexPort,
      dataDir: this.dir('vertex'),
      gcsRoot: this.dir('storage'),
      lroDelayMs: this.opts.lroDelayMs,
      intraOpNumThreads: this.opts.endpointThreads ?? availableParallelism(),
      logger: this.quiet,
    });
  }

  /** Stops the Vertex AI emulator and starts it again on the same port and data folder. */
  async restartVertex(downMs = 0): Promise<void> {
    await this.vertex.stop();
    if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
    await this.startVertex();
  }

  /** Uploads files through the official client, `concurrency` at a time; resolves when all landed. */
  async uploadAll(bucket: string, files: Array<{ name: string; bytes: Buffer }>, concurrency = 8): Promise<void> {
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(concurrency, files.length) }, async () => {
        while (next < files.length) {
          const f = files[next++]!;
          await this.upload(bucket, f.name, f.bytes);
        }
      }),
    );
  }

  async upload(bucket: string, name: string, bytes: Buffer): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.storage.bucket(bucket).file(name).save(bytes, { resumable: false });
        return;
      } catch (err) {
        // A reset keep-alive socket is not what is measured; a finalize fires only on success.
        if (attempt >= 3 || !/ECONNRESET|socket hang up/.test(String(err))) throw err;
      }
    }
  }

  /** from the job's counter shards (./job-counters.ts), cheap to poll */
  async resultCount(job: string): Promise<number> {
    return countedResults(this.db, job);
  }

  async results(job: string): Promise<Array<Record<string, unknown>>> {
    const snap = await this.db.collection(`jobs/${job}/results`).get();
    return snap.docs.map((d) => ({ ...d.data(), docId: d.id }));
  }

  /** Polls until `done()` holds; false when `timeoutMs` passed first. */
  async waitFor(done: () => Promise<boolean>, timeoutMs: number, everyMs = 200): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if (await done()) return true;
      await new Promise((r) => setTimeout(r, everyMs));
    }
    return done();
  }

  private stopping: Promise<void> | undefined;

  /**
   * Stops everything, once: a second call (Ctrl-C's handler and the run's own `finally`, which
   * a Ctrl-C makes run early by failing its next Firestore call) waits for the first, so the
   * process cannot exit with an emulator still running.
   */
  stop(): Promise<void> {
    this.stopping ??= this.stopAll();
    return this.stopping;
  }

  private async stopAll(): Promise<void> {
    const steps: Array<() => Promise<unknown>> = [
      async () => this.timers?.stop(),
      async () => this.tap?.close(),
      () => this.topology?.close() ?? Promise.resolve(),
      () => this.worker?.stop() ?? Promise.resolve(),
      () => this.functions?.stop() ?? Promise.resolve(),
      () => this.proxy?.close() ?? Promise.resolve(),
      () => this.pubsub?.close() ?? Promise.resolve(),
      () => this.db?.terminate() ?? Promise.resolve(),
      () => this.vertex?.stop() ?? Promise.resolve(),
      () => this.storageEmulator?.stop() ?? Promise.resolve(),
      ...this.emulators.map((e) => () => e.process.stop()),
    ];
    for (const step of steps) await step().catch((err: unknown) => this.opts.say(`while stopping: ${(err as Error).message}`));
  }
}
