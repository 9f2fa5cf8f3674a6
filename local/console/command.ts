import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { positiveInt, runCommand } from '#local/cli/run-command';
import { addTargetOptions, resolveTarget, type TargetFlags } from '#local/cli/target';
import { startConsole } from './server';

interface ConsoleFlags extends TargetFlags {
  port?: number;
}

/** `dropship console`: the web console on 127.0.0.1 over the local stack or a Google Cloud project (read-only, ADC). */
export function main(argv: string[]): Promise<number> {
  const program = addTargetOptions(
    new Command('dropship console')
      .description('a web console (models, jobs, labeled images) on 127.0.0.1, until Ctrl-C')
      .option('--port <n>', 'the port (default: any free one)', positiveInt('--port')),
  ).action(async (flags: ConsoleFlags) => {
    const target = await resolveTarget(flags);
    let imagesBucket: string | undefined;
    try {
      imagesBucket = target.bucket('images');
    } catch {
      imagesBucket = undefined;
    }
    const running = await startConsole({
      firestore: target.firestore(),
      storage: target.storage(),
      kind: target.kind,
      project: target.project,
      cacheDir: target.stack ? join(target.stack.dataDir, 'console-cache') : join(tmpdir(), 'dropship-console-cache', target.project),
      ...(imagesBucket ? { imagesBucket } : {}),
      ...(flags.port ? { port: flags.port } : {}),
    });
    process.stdout.write(`dropship console: ${running.url} (${target.kind} ${target.project}); Ctrl-C stops it\n`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await running.close();
    await target.close();
  });
  return runCommand(program, argv);
}
