import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { freePort, spawnGroup, waitForHttp, type GroupProcess, type GroupTracking } from './process-group';

export interface RunningEmulator {
  readonly name: 'pubsub' | 'firestore';
  /** host:port, the value of PUBSUB_EMULATOR_HOST / FIRESTORE_EMULATOR_HOST */
  readonly hostPort: string;
  readonly process: GroupProcess;
}

const READY_TIMEOUT_MS = 60_000;

/** Says exactly what is missing for the gcloud emulators, or returns an empty list. */
export function missingEmulatorPrerequisites(): string[] {
  const missing: string[] = [];
  const has = (cmd: string, args: string[]): boolean => {
    try {
      execFileSync(cmd, args, { stdio: 'ignore', timeout: 30_000 });
      return true;
    } catch {
      return false;
    }
  };
  if (!has('java', ['-version'])) missing.push('java (Java 17 or newer) is not on PATH: apt-get install openjdk-17-jre-headless');
  if (!has('gcloud', ['--version'])) {
    missing.push('gcloud is not on PATH: install the Google Cloud CLI (Debian package google-cloud-cli)');
  } else {
    for (const [pkg, dir] of [
      ['google-cloud-cli-pubsub-emulator', 'pubsub-emulator'],
      ['google-cloud-cli-firestore-emulator', 'cloud-firestore-emulator'],
    ] as const) {
      const root = sdkRoot();
      if (root && !has('test', ['-d', join(root, 'platform', dir)])) {
        missing.push(`the ${dir} component is missing: apt-get install ${pkg}`);
      }
    }
  }
  return missing;
}

function sdkRoot(): string | undefined {
  try {
    return execFileSync('gcloud', ['info', '--format=value(installation.sdk_root)'], {
      encoding: 'utf8',
      timeout: 30_000,
    }).trim();
  } catch {
    return undefined;
  }
}

export async function startPubsubEmulator(opts: { project: string; logDir: string; port?: number; dataDir?: string; track?: GroupTracking }): Promise<RunningEmulator> {
  const port = opts.port ?? (await freePort());
  const args = ['beta', 'emulators', 'pubsub', 'start', `--host-port=127.0.0.1:${port}`, `--project=${opts.project}`];
  if (opts.dataDir) args.push(`--data-dir=${opts.dataDir}`);
  const proc = spawnGroup('gcloud', args, { logFile: join(opts.logDir, 'pubsub-emulator.log'), track: opts.track });
  await readyOrStop(proc, `http://127.0.0.1:${port}/`, 'the Pub/Sub emulator');
  return { name: 'pubsub', hostPort: `127.0.0.1:${port}`, process: proc };
}

export async function startFirestoreEmulator(opts: { logDir: string; port?: number; track?: GroupTracking }): Promise<RunningEmulator> {
  // No data folder here: the emulator's --export-on-exit does not run when its process group is
  // stopped; local/stack/persistent-firestore.ts keeps state across restarts over REST instead.
  const port = opts.port ?? (await freePort());
  const args = ['emulators', 'firestore', 'start', `--host-port=127.0.0.1:${port}`];
  const proc = spawnGroup('gcloud', args, { logFile: join(opts.logDir, 'firestore-emulator.log'), track: opts.track });
  await readyOrStop(proc, `http://127.0.0.1:${port}/`, 'the Firestore emulator');
  return { name: 'firestore', hostPort: `127.0.0.1:${port}`, process: proc };
}

async function readyOrStop(proc: GroupProcess, url: string, what: string): Promise<void> {
  try {
    await waitForHttp(url, proc, READY_TIMEOUT_MS, what);
  } catch (err) {
    await proc.stop(1000);
    throw err;
  }
}
