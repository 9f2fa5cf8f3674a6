import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PubSub } from '@google-cloud/pubsub';
import { Storage } from '@google-cloud/storage';
import { startPubsubEmulator, type RunningEmulator } from '#local/emulators/gcloud-emulators';
import { freePort, killGroup } from '#local/emulators/process-group';
import { startStorageEmulator, type StorageEmulator } from '#local/storage-emulator/start';
import { TOPOLOGY } from '#shared/topology';
import { startFirestoreOpCounter } from '#local/emulators/firestore-op-counter';
import { startControlServer } from './control-server';
import { createTopology } from './create-topology';
import { functionEnv } from './function-env';
import { LOCAL_BUCKETS, LOCAL_PROJECT, LOCAL_REGION } from './local-names';
import { startPersistentFirestore, type PersistentFirestore } from './persistent-firestore';
import { startScheduleTimers } from './reconcile-timer';
import { startFunctionProcesses, type FunctionProcesses } from './function-processes';
import { ProcessLedger } from './process-ledger';
import { startVertexChild, type VertexChild } from './vertex-child';
import { removeStackFile, writeStackFile, type StackInfo } from './stack-file';

/** the longest timeout of a Storage-triggered function (terraform gives each its topology timeout) */
const STORAGE_TRIGGER_TIMEOUT_MS = Math.max(...TOPOLOGY.functions.filter((f) => f.trigger.kind === 'storage-finalized').map((f) => f.timeoutSeconds)) * 1000;

export interface StackOptions {
  dataDir: string;
  /** how long the Vertex AI emulator's operations (deploys) take; short locally */
  lroDelayMs: number;
  /** how often the reconciler's schedule ticks */
  scheduleEveryMs: number;
  /** progress lines for the person watching */
  say: (line: string) => void;
  /**
   * Aborting it stops the start at once: emulators still starting are stopped, so are the
   * parts already running, and startStack rejects with StackStartAborted.
   */
  signal?: AbortSignal;
  /**
   * Told when a function process ends on its own once the stack runs (a function crashed it);
   * the caller stops the stack. Default: thrown as an uncaught exception.
   */
  onCrash?: (err: Error) => void;
  /** put a counting proxy between the functions and the Firestore emulator (its figures at the control server's /firestore-ops) */
  countFirestoreOps?: boolean;
}

export class StackStartAborted extends Error {
  constructor() {
    super('the stack was stopped while it started');
    this.name = 'StackStartAborted';
  }
}

export interface RunningStack {
  readonly info: StackInfo;
  /** functions TOPOLOGY names whose code is not in functions/ (served nothing, triggers nothing) */
  readonly missingFunctions: string[];
  /** names of TOPOLOGY env variables the stack could not fill */
  readonly unknownEnv: string[];
  stop(): Promise<void>;
}

/**
 * Starts the whole local stack: the gcloud Pub/Sub and Firestore emulators, the Storage and
 * Vertex AI emulators, every function of TOPOLOGY (in processes of their own), the topology
 * itself, and the schedule timers; then writes <data>/stack.json. If any step fails or the
 * start is aborted, what was started is stopped.
 */
export async function startStack(opts: StackOptions): Promise<RunningStack> {
  const startedAt = new Date().toISOString();
  const dir = (name: string) => {
    const d = join(opts.dataDir, name);
    mkdirSync(d, { recursive: true });
    return d;
  };
  const logDir = dir('logs');
  // Recorded before anything starts: a stack killed while starting leaves nothing unaccounted for.
  const ledger = new ProcessLedger(opts.dataDir);
  // Last to run: every process group recorded is waited for (escalating to SIGKILL) before the
  // stop is over, so `dropship up` never exits while one of them is still there.
  const stoppers: Array<() => Promise<void>> = [
    async () => {
      const left = await ledger.finishGroups();
      // kept if something is left: the next `dropship up` reaps it (./stale-stack.ts)
      if (left.length > 0) opts.say(`process groups ${left.join(', ')} did not stop`);
      else ledger.remove();
    },
  ];
  const stopAll = async () => {
    for (const stop of stoppers.splice(0).reverse()) {
      await stop().catch((err: unknown) => opts.say(`while stopping: ${(err as Error).message}`));
    }
  };
  let crashedWhileStarting: Error | undefined;
  let started = false;
  const checkpoint = () => {
    if (opts.signal?.aborted) throw new StackStartAborted();
    if (crashedWhileStarting) throw crashedWhileStarting;
  };
  // Java emulators take seconds to come up: an abort stops the groups already recorded, which
  // makes their readiness wait fail at once instead of after the start.
  let emulatorsStarting = true;
  const onAbort = () => {
    if (emulatorsStarting) for (const pgid of ledger.pgids) killGroup(pgid, 'SIGTERM');
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    checkpoint();
    opts.say('starting the Pub/Sub, Firestore, Storage and Vertex AI emulators and the functions...');
    const storageDir = dir('storage');
    // The ports are chosen first, so the functions' processes (whose Node start-up and client
    // loading take seconds) start beside the Java emulators instead of after them: a function
    // reads its configuration and connects on its first event.
    const ports = { pubsub: await freePort(), firestore: await freePort(), storage: await freePort(), vertex: await freePort(), vertexRest: await freePort() };
    // Counting: the functions reach Firestore through a pass-through proxy that counts their
    // calls and billed document reads and writes (the emulator counts nothing).
    // It is up before the emulator (it connects on each call), and stops after every function.
    const firestoreOps = opts.countFirestoreOps ? await startFirestoreOpCounter({ target: `127.0.0.1:${ports.firestore}` }) : undefined;
    if (firestoreOps) {
      stoppers.push(() => firestoreOps.close());
      opts.say(`counting the functions' Firestore calls (proxy ${firestoreOps.host}): GET <control url>firestore-ops`);
    }
    const { env, unknown } = functionEnv({
      project: LOCAL_PROJECT,
      region: LOCAL_REGION,
      pubsubEmulatorHost: `127.0.0.1:${ports.pubsub}`,
      firestoreEmulatorHost: firestoreOps?.host ?? `127.0.0.1:${ports.firestore}`,
      storageUrl: `http://127.0.0.1:${ports.storage}`,
      vertexEndpoint: `127.0.0.1:${ports.vertex}`,
      buckets: LOCAL_BUCKETS,
    });
    // This process's own clients (the topology's) find the emulators the same way.
    Object.assign(process.env, env);
    const onCrash =
      opts.onCrash ??
      ((err: Error) =>
        setImmediate(() => {
          throw err;
        }));
    const results = await Promise.allSettled([
      startPubsubEmulator({ project: LOCAL_PROJECT, logDir, port: ports.pubsub, dataDir: dir('pubsub'), track: ledger.track('pubsub emulator') }),
      startPersistentFirestore({ dataDir: dir('firestore'), logDir, port: ports.firestore, project: LOCAL_PROJECT, track: ledger.track('firestore emulator') }),
      startStorageEmulator({
        dataDir: storageDir,
        port: ports.storage,
        // as Eventarc on Google Cloud: an attempt may run as long as the function's timeout (a big
        // manifest's intake runs up to its time budget), and a failing event is redelivered for
        // as long as the functions keep it (MAX_EVENT_AGE_MINUTES, 60), not the emulator's 2 min
        deliveryTimeoutMs: STORAGE_TRIGGER_TIMEOUT_MS,
        retry: { maxAgeMs: 60 * 60_000, maxAttempts: 1_000 },
      }),
      // batch prediction output is uploaded through the Storage emulator, so it fires finalize events
      startVertexChild({
        port: ports.vertex,
        restPort: ports.vertexRest,
        dataDir: dir('vertex'),
        gcsRoot: storageDir,
        storageUrl: `http://127.0.0.1:${ports.storage}`,
        lroDelayMs: opts.lroDelayMs,
        runDir: dir('run'),
        track: ledger.track('vertex ai emulator'),
      }),
      startFunctionProcesses({
        functions: TOPOLOGY.functions,
        project: LOCAL_PROJECT,
        env,
        runDir: dir('run'),
        track: (what) => ledger.track(what),
        signal: opts.signal,
        onExit: (err) => {
          if (started) onCrash(err);
          else crashedWhileStarting ??= err;
        },
      }),
    ] as const);
    emulatorsStarting = false;
    const [pubsubR, firestoreR, storageR, vertexR, functionsR] = results;
    if (pubsubR.status === 'fulfilled') stoppers.push(() => pubsubR.value.process.stop());
    if (firestoreR.status === 'fulfilled') {
      stoppers.push(async () => {
        await firestoreR.value.exportTo().catch((err: unknown) => opts.say(`could not save Firestore state: ${(err as Error).message}`));
        await firestoreR.value.process.stop();
      });
    }
    if (storageR.status === 'fulfilled') stoppers.push(() => storageR.value.stop());
    if (vertexR.status === 'fulfilled') stoppers.push(() => vertexR.value.process.stop());
    // after the emulators', so the functions stop first
    if (functionsR.status === 'fulfilled') stoppers.push(() => functionsR.value.stop());
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    checkpoint();
    if (failed) throw failed.reason;
    const pubsubEmu = (pubsubR as PromiseFulfilledResult<RunningEmulator>).value;
    const firestore = (firestoreR as PromiseFulfilledResult<PersistentFirestore>).value;
    const storageEmu = (storageR as PromiseFulfilledResult<StorageEmulator>).value;
    const vertex = (vertexR as PromiseFulfilledResult<VertexChild>).value;
    const functions = (functionsR as PromiseFulfilledResult<FunctionProcesses>).value;
    const { missing, urls: functionUrls } = functions;

    opts.say('creating buckets, topics, subscriptions and triggers...');
    const pubsub = new PubSub({ projectId: LOCAL_PROJECT });
    stoppers.push(() => pubsub.close());
    const storage = new Storage({ apiEndpoint: storageEmu.url, projectId: LOCAL_PROJECT });
    const topology = await createTopology({
      project: LOCAL_PROJECT,
      pubsub,
      storage,
      notifications: storageEmu,
      buckets: LOCAL_BUCKETS,
      functionUrls,
      topology: { ...TOPOLOGY, functions: TOPOLOGY.functions.filter((f) => !missing.includes(f.name)) },
    });
    stoppers.push(() => topology.close());
    checkpoint();
    const timers = startScheduleTimers(pubsub, opts.scheduleEveryMs);
    stoppers.push(async () => timers.stop());

    const control = await startControlServer(firestoreOps ? { firestoreOps: () => firestoreOps.counts() } : {});
    stoppers.push(() => control.close());
    // First to stop: a folder copy in progress must not keep feeding events to functions that
    // are shutting down (stop() is idempotent; its own place in the list runs it again harmlessly).
    stoppers.push(() => storageEmu.stop());

    const info: StackInfo = {
      pid: process.pid,
      processGroups: [pubsubEmu.process.pid, firestore.process.pid, vertex.process.pid, ...functions.groups],
      startedAt,
      readyAt: new Date().toISOString(),
      dataDir: opts.dataDir,
      project: LOCAL_PROJECT,
      region: LOCAL_REGION,
      controlUrl: control.url,
      pubsubEmulatorHost: pubsubEmu.hostPort,
      firestoreEmulatorHost: firestore.hostPort,
      storage: { url: storageEmu.url, dataDir: storageDir },
      vertex: { endpoint: vertex.endpoint, ...(vertex.restPort ? { restPort: vertex.restPort } : {}) },
      buckets: { ...LOCAL_BUCKETS },
      topics: Object.fromEntries(TOPOLOGY.topics.map((t) => [t.name, t.name])),
      functions: functionUrls,
    };
    checkpoint();
    writeStackFile(info);
    stoppers.push(async () => removeStackFile(opts.dataDir, process.pid));
    started = true;
    let stopping: Promise<void> | undefined;
    return { info, missingFunctions: missing, unknownEnv: unknown, stop: () => (stopping ??= stopAll()) };
  } catch (err) {
    await stopAll();
    throw opts.signal?.aborted ? new StackStartAborted() : err;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
}
