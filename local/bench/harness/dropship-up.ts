import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { findRunningStack, type StackInfo } from '#local/stack/stack-file';
import { stopOnSignal } from './stop-on-signal';

export const REPO_ROOT = resolve(__dirname, '..', '..', '..');
export const DROPSHIP = join(REPO_ROOT, 'bin', 'dropship');

/** The environment of a command aimed at the local stack: no Google Cloud project or data folder leaks in. */
export function localEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ['GOOGLE_CLOUD_PROJECT', 'CLOUDSDK_CORE_PROJECT', 'GCLOUD_PROJECT', 'DROPSHIP_DATA']) delete env[k];
  return env;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Runs the real `dropship up` on a data folder (its output in `<data>/../up.log`) until its stack
 * file answers, for benches that measure the whole stack as a user runs it. `stop()` sends
 * SIGINT (a user's Ctrl-C), then SIGKILL after 60 s; calling it twice stops once.
 */
export async function startDropshipUp(data: string, say: (line: string) => void, name: string, opts: { countFirestoreOps?: boolean } = {}): Promise<{ stack: StackInfo; stop(): Promise<void> }> {
  mkdirSync(data, { recursive: true });
  const log = openSync(join(data, '..', 'up.log'), 'a');
  const upArgs = ['up', '--data', data, '--lro-delay-ms', '500', '--tick-ms', '1000', ...(opts.countFirestoreOps ? ['--count-firestore-ops'] : [])];
  // BENCH_CPU_PROF=DIR: `up` (not its children) writes a V8 CPU profile there when it stops
  // (node refuses --cpu-prof in NODE_OPTIONS, so it is run without bin/dropship's wrapper).
  const profDir = process.env.BENCH_CPU_PROF;
  const [command, args] = profDir
    ? [join(REPO_ROOT, 'node_modules', '.bin', 'node'), ['--cpu-prof', `--cpu-prof-dir=${profDir}`, '--conditions=source', '--import', 'tsx', join(REPO_ROOT, 'local', 'cli', 'main.ts'), ...upArgs]]
    : [DROPSHIP, upArgs];
  const child: ChildProcess = spawn(command, args, {
    cwd: REPO_ROOT,
    env: { ...localEnv(), LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'WARNING', UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE ?? '16' },
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  let gone = false;
  void exited.then(() => (gone = true));
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      if (!gone) child.kill('SIGINT');
      await Promise.race([exited, sleep(60_000)]);
      if (!gone) child.kill('SIGKILL');
      unregister();
    })());
  // the bench killed (not a terminal's Ctrl-C, which reaches `up` too) stops `up` before it exits
  const unregister = stopOnSignal(stop);
  say(`${name}: starting dropship up...`);
  const started = Date.now();
  let stack: StackInfo | undefined;
  try {
    while (!stack) {
      if (gone) throw new Error(`dropship up exited early; see ${join(data, '..', 'up.log')}`);
      if (Date.now() - started > 180_000) throw new Error('dropship up was not ready within 180 s');
      stack = await findRunningStack(data).catch(() => undefined);
      if (!stack) await sleep(250);
    }
  } catch (err) {
    await stop(); // not left running when it never got ready
    throw err;
  }
  say(`${name}: stack ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { stack, stop };
}
