import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { missingEmulatorPrerequisites } from '#local/emulators/gcloud-emulators';
import { resolveDataDir } from '#local/stack/data-dir';
import { StackStartAborted, startStack, type RunningStack } from '#local/stack/start-stack';
import { findRunningStack, type StackInfo } from '#local/stack/stack-file';
import { reapStaleStack } from '#local/stack/stale-stack';
import { DataLayout } from '#local/storage-emulator/data-layout';
import { CommandFailed, UsageError } from './cli-errors';
import { runCommand } from './run-command';
import { resolveTarget } from './target';

interface UpFlags {
  data?: string;
  demo?: boolean;
  lroDelayMs: number;
  tickMs: number;
  countFirestoreOps?: boolean;
}

const nonNegativeInt = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${name} must be a whole number of milliseconds`);
  return n;
};

export function main(argv: string[]): Promise<number> {
  const program = new Command('dropship up')
    .description('run the whole stack on this machine, in the foreground, until Ctrl-C')
    .option('--data <dir>', 'where the stack keeps everything (default: $DROPSHIP_DATA or ./.dropship)')
    .option('--demo', 'also deploy the demo model and label a handful of held-out digits')
    .option('--lro-delay-ms <ms>', "how long the Vertex AI emulator's operations take (Google Cloud: 15-30 minutes)", nonNegativeInt('--lro-delay-ms'), 2000)
    .option('--count-firestore-ops', "count the functions' Firestore calls, document reads and writes (a proxy before the emulator; GET <control url>firestore-ops, see stack.json)")
    .option('--tick-ms <ms>', "how often the reconciler's schedule ticks (Google Cloud: every minute)", nonNegativeInt('--tick-ms'), 5000)
    .action(async (flags: UpFlags) => up(flags));
  return runCommand(program, argv);
}

async function up(flags: UpFlags): Promise<void> {
  const t0 = Date.now();
  const dataDir = resolveDataDir(flags.data);
  const say = (line: string) => process.stderr.write(`${line}\n`);
  const missing = missingEmulatorPrerequisites();
  if (missing.length > 0) throw new CommandFailed(`cannot start the local stack, prerequisites are missing:\n  - ${missing.join('\n  - ')}`);
  const running = await findRunningStack(dataDir).catch(() => undefined);
  if (running) throw new CommandFailed(`a stack is already running on ${dataDir} (pid ${running.pid}): stop it first, or use another --data folder`);
  const reaped = reapStaleStack(dataDir);
  if (reaped.length > 0) say(`stopped emulators left behind by a stack that did not shut down: process groups ${reaped.join(', ')}`);
  // Triggers are recreated from TOPOLOGY at every start; the ones saved last time point at old ports.
  rmSync(new DataLayout(join(dataDir, 'storage')).notificationsFile, { force: true });

  let signalled: NodeJS.Signals | undefined;
  // A signal during the start stops it there, emulators still starting included.
  const aborter = new AbortController();
  let wake: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (wake = resolve));
  const onSignal = (sig: NodeJS.Signals) => {
    if (signalled) return;
    signalled = sig;
    say(`${sig}: stopping everything the stack started...`);
    aborter.abort();
    wake();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  // A crash here, or of a function's process, still stops every process group (they are not
  // in ours) before exiting, so nothing is left behind.
  let stackRef: RunningStack | undefined;
  const onCrash = (err: unknown) => {
    // Once a signal asked for the stop, a client closed under work still in flight (the
    // console's Firestore listeners, unsubscribed right after they started, retry on the
    // terminated client) is no crash: the stop goes on, and ends with 0 once all is gone.
    if (signalled) {
      say(`while stopping: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    say(`the stack crashed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    void (stackRef?.stop() ?? Promise.resolve()).finally(() => process.exit(1));
  };
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);

  let stack: RunningStack | undefined;
  let consoleClosed: Promise<void> = Promise.resolve();
  try {
    stack = await startStack({ dataDir, lroDelayMs: flags.lroDelayMs, scheduleEveryMs: flags.tickMs, countFirestoreOps: flags.countFirestoreOps === true, say, signal: aborter.signal, onCrash }).catch(
      (err: unknown) => {
        if (err instanceof StackStartAborted && signalled) return undefined;
        throw err;
      },
    );
    stackRef = stack;
    if (stack && !signalled) {
      process.stdout.write(banner(stack, (Date.now() - t0) / 1000));
      // The web console over the same Firestore and Storage (dropship console runs it alone).
      const consoleTarget = await resolveTarget({ data: dataDir, local: true });
      const { startConsole } = await import('#local/console/server');
      const web = await startConsole({
        firestore: consoleTarget.firestore(),
        storage: consoleTarget.storage(),
        kind: 'local',
        project: consoleTarget.project,
        cacheDir: join(dataDir, 'console-cache'),
        imagesBucket: consoleTarget.bucket('images'),
      });
      // Caught: a rejection here would be an unhandled one, which ends `up` through onCrash with 1.
      consoleClosed = stopped
        .then(() => web.close().then(() => consoleTarget.close()))
        .catch((err: unknown) => {
          say(`while stopping the console: ${(err as Error).message}`);
        });
      process.stdout.write(`Console: ${web.url}\n`);
      if (flags.demo) {
        const target = await resolveTarget({ data: dataDir, local: true });
        await Promise.race([
          (async () => {
            const { runDemo } = await import('#local/stack/demo');
            await runDemo(target, dataDir, (l) => process.stdout.write(`${l}\n`));
          })().catch((err: unknown) => say(`demo failed: ${(err as Error).message}`)),
          stopped,
        ]);
        await target.close();
      }
      await stopped;
    }
  } finally {
    // however we got here: the console closes (bounded: a browser's open request must not hold the stop)
    wake();
    await Promise.race([consoleClosed, new Promise((r) => setTimeout(r, 5000).unref())]);
    await stack?.stop();
    say('stopped.');
  }
}

function banner(stack: RunningStack, seconds: number): string {
  const i: StackInfo = stack.info;
  const storage = i.storage.dataDir;
  const lines = [
    `dropship is ready (${seconds.toFixed(1)} s). Everything lives in ${i.dataDir}; Ctrl-C stops it all.`,
    '',
    'Deploy a model: copy a SavedModel folder (with model.onnx beside it for local serving) into',
    `    ${join(storage, i.buckets.models)}/<model>/<version>/`,
    '  or: npx dropship deploy DIR --model <model> --version <version> --wait',
    'Label images: copy them into',
    `    ${join(storage, i.buckets.images)}/<job>/`,
    '  or: npx dropship label FILES|DIR --job <job> --model <model> --wait',
    'Read state and results: npx dropship status; npx dropship results <job> --follow',
    '',
    `Buckets: gs://${i.buckets.models}, gs://${i.buckets.images} (Storage emulator ${i.storage.url})`,
    `Pub/Sub emulator ${i.pubsubEmulatorHost}, Firestore emulator ${i.firestoreEmulatorHost}, Vertex AI emulator ${i.vertex.endpoint}${i.vertex.restPort ? ` (REST http://127.0.0.1:${i.vertex.restPort})` : ''}, project ${i.project}`,
    `Functions: ${
      Object.entries(i.functions)
        .map(([n, u]) => `${n} ${u}`)
        .join(', ') || '(none)'
    }`,
  ];
  if (stack.missingFunctions.length > 0) lines.push(`Not served (no code in functions/ yet): ${stack.missingFunctions.join(', ')}`);
  if (stack.unknownEnv.length > 0) lines.push(`Environment the stack does not set (functions use their defaults): ${stack.unknownEnv.join(', ')}`);
  lines.push(`Stack file: ${join(i.dataDir, 'stack.json')}`, '');
  return lines.join('\n') + '\n';
}
