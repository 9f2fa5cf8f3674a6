import { existsSync } from 'node:fs';
import { extname, join } from 'node:path';
import { spawnGroup, type GroupProcess, type GroupTracking } from '#local/emulators/process-group';
import { CPU_PROF_ENV, FUNCTIONS_ENV, READY_FILE_ENV, readyFileSchema, type ServedSpec } from '#local/functions-host/served-spec';
import type { FunctionSpec } from '#shared/topology';
import { heapLimitArgs } from './heap-limit';
import { clearReadyFile, loaderArgs, waitForReadyFile } from './ready-file';

const REPO_ROOT = join(__dirname, '..', '..');
const ENTRY = join(REPO_ROOT, 'local', 'functions-host', `functions-process${extname(__filename)}`);
/** Node start-up, tsx and the Google clients of seven functions, on two busy cores */
const READY_TIMEOUT_MS = 180_000;

/**
 * The processes the functions are served by: on Google Cloud each function runs in instances
 * of its own, so one function's load never stalls another, nor the emulators. A folder job
 * makes one image-intake invocation per image and one prediction request per image: served in
 * the stack's process, they took the event loop the Storage emulator's watcher, the Vertex AI
 * emulator and the control server need (docs/local-stack.md, "Copying folders in").
 * Each name here is one process; the functions not named share one more.
 */
export const OWN_PROCESS = ['image-intake', 'predict-worker', 'results-ledger'];

export interface FunctionProcesses {
  /** function name -> http://127.0.0.1:port/ */
  readonly urls: Record<string, string>;
  /** the process groups (watchdog-led sessions) the functions run in */
  readonly groups: number[];
  /** functions TOPOLOGY names whose code is not in functions/ */
  readonly missing: string[];
  stop(): Promise<void>;
}

/**
 * DROPSHIP_FUNCTIONS_CPU_PROF=DIR: each function process writes a V8 CPU profile into DIR when
 * it is stopped (for benches: `npm run bench -- --only folder-copy` with it set shows where
 * image-intake's time goes). node refuses --cpu-prof in NODE_OPTIONS, so it is a flag here.
 */
function profileArgs(): string[] {
  const dir = process.env[CPU_PROF_ENV];
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
}

/** the functions of TOPOLOGY split into the processes that serve them */
export function processGroups(functions: FunctionSpec[]): FunctionSpec[][] {
  const own = functions.filter((f) => OWN_PROCESS.includes(f.name)).map((f) => [f]);
  const rest = functions.filter((f) => !OWN_PROCESS.includes(f.name));
  return rest.length > 0 ? [...own, rest] : own;
}

/**
 * Starts the functions in child processes (local/functions-host/functions-process.ts), each
 * under a watchdog in a session of its own, recorded by `track` as it starts: none outlives
 * the stack, even one killed with SIGKILL. Resolves once every function listens. `onExit` is
 * told when a process ends that was not asked to (a function crashed it). `signal` aborts the
 * start: what started is stopped and the promise rejects.
 */
export async function startFunctionProcesses(opts: {
  functions: FunctionSpec[];
  project: string;
  /** the functions' configuration (local/stack/function-env.ts) */
  env: Record<string, string>;
  runDir: string;
  track: (what: string) => GroupTracking;
  onExit: (err: Error) => void;
  signal?: AbortSignal;
}): Promise<FunctionProcesses> {
  const missing: string[] = [];
  const present = opts.functions.filter((fn) => {
    const dir = join(REPO_ROOT, 'functions', fn.source);
    const found = existsSync(join(dir, 'index.ts')) || existsSync(join(dir, 'index.js'));
    if (!found) missing.push(fn.name);
    return found;
  });
  const started: Array<{ label: string; proc: GroupProcess }> = [];
  let stopping = false;
  const stop = async () => {
    stopping = true;
    await Promise.all(started.map((s) => s.proc.stop()));
  };
  const onAbort = () => void stop();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const urls: Record<string, string> = {};
    await Promise.all(
      processGroups(present).map(async (group) => {
        const label = group.map((f) => f.name).join(',');
        const specs: ServedSpec[] = [];
        for (const fn of group) {
          specs.push({
            name: fn.name,
            source: fn.source,
            // no port: each process listens on one the kernel picks (a port picked here and bound
            // there could be taken in between by another stack starting beside this one)
            ...(fn.trigger.kind === 'pubsub' ? { pubsubSource: `projects/${opts.project}/topics/${fn.trigger.topic}` } : {}),
          });
        }
        const readyFile = join(opts.runDir, `functions-${group[0]!.name}.ready.json`);
        clearReadyFile(readyFile);
        if (stopping) throw new Error('stopped while starting');
        const proc = spawnGroup(process.execPath, [...heapLimitArgs(group), ...profileArgs(), ...loaderArgs(), ENTRY], {
          env: { ...process.env, ...opts.env, [FUNCTIONS_ENV]: JSON.stringify(specs), [READY_FILE_ENV]: readyFile },
          cwd: REPO_ROOT,
          track: opts.track(`functions ${label}`),
        });
        started.push({ label, proc });
        Object.assign(urls, (await waitForReadyFile(readyFile, readyFileSchema, proc, label, READY_TIMEOUT_MS)).functions);
        void proc.exited.then((code) => {
          if (!stopping) opts.onExit(new Error(`the process serving ${label} exited (code ${code}); its output is above`));
        });
      }),
    );
    return { urls, groups: started.map((s) => s.proc.pid), missing, stop };
  } catch (err) {
    await stop();
    throw err;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
}
