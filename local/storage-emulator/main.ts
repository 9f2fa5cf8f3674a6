import { Command, InvalidArgumentError } from 'commander';
import { startStorageEmulator } from './start';

/** `dropship storage-emulator --port P --data DIR`: runs until SIGINT or SIGTERM. */
export async function main(argv: string[]): Promise<number> {
  const program = new Command('dropship storage-emulator')
    .description('Run the Cloud Storage emulator: the JSON API backed by a folder, with Eventarc-style object events.')
    .option('--port <port>', 'port on 127.0.0.1 (0: any free port)', int, 9023)
    .option('--data <dir>', 'data folder: one subfolder per bucket, objects as plain files', '.dropship/storage')
    .option('--settle-ms <ms>', 'a file copied into the folder counts once unchanged this long', int, 500)
    .option('--duplicates <n>', 'deliver every event n times (fault injection)', int, 1)
    .option('--shuffle', 'deliver events in shuffled order (fault injection)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  try {
    program.parse(argv, { from: 'user' });
  } catch (err) {
    return (err as { exitCode?: number }).exitCode === 0 ? 0 : 2;
  }
  const o = program.opts<{ port: number; data: string; settleMs: number; duplicates: number; shuffle?: boolean }>();
  const emulator = await startStorageEmulator({
    port: o.port,
    dataDir: o.data,
    settleMs: o.settleMs,
    delivery: { duplicates: o.duplicates, shuffle: !!o.shuffle },
  });
  process.stdout.write(`storage emulator listening on ${emulator.url} (data: ${o.data})\n`);
  process.stdout.write(`clients: STORAGE_EMULATOR_HOST=${emulator.url}  or  new Storage({ apiEndpoint: '${emulator.url}', projectId })\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await emulator.stop();
  return 0;
}

function int(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
}
