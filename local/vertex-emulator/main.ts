import { Command, InvalidArgumentError } from 'commander';
import { startVertexEmulator } from './start';

const int = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a whole number >= 0`);
  return n;
};

/** `dropship vertex-emulator --port P --data DIR`: the emulator on its own, until SIGINT/SIGTERM. */
export async function main(argv: string[]): Promise<number> {
  const program = new Command('dropship vertex-emulator')
    .description('Serve the Vertex AI v1 API (models, endpoints, operations, predict) on 127.0.0.1, running deployed models on ONNX Runtime.')
    .option('--port <port>', 'gRPC port (0: any free port)', int('--port'), 0)
    .requiredOption('--data <dir>', 'folder that keeps the emulator state across restarts')
    .option('--rest-port <port>', 'HTTP port for the v1 REST API (what gcloud ai and curl use) and GET/PUT /emulator/faults (0: any free port)', int('--rest-port'), 0)
    .option('--lro-delay-ms <ms>', 'how long long-running operations take', int('--lro-delay-ms'), 1000)
    .option('--gcs-root <dir>', 'local folder holding gs:// buckets as bucket/object paths')
    .option('--threads <n>', 'ONNX Runtime intra-op threads per deployed model', int('--threads'))
    .exitOverride()
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) });
  try {
    program.parse(argv, { from: 'user' });
  } catch (err) {
    const code = (err as { exitCode?: number }).exitCode;
    return code === 0 ? 0 : 2;
  }
  const o = program.opts<{ port: number; data: string; restPort: number; lroDelayMs: number; gcsRoot?: string; threads?: number }>();
  const emulator = await startVertexEmulator({
    port: o.port,
    restPort: o.restPort,
    dataDir: o.data,
    lroDelayMs: o.lroDelayMs,
    ...(o.gcsRoot ? { gcsRoot: o.gcsRoot } : {}),
    ...(o.threads ? { intraOpNumThreads: o.threads } : {}),
  });
  process.stdout.write(`Vertex AI emulator: gRPC on ${emulator.endpoint} (VERTEX_API_ENDPOINT=${emulator.endpoint}), ` + `REST on http://127.0.0.1:${emulator.restPort}, data in ${o.data}\n`);
  await new Promise<void>((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
  await emulator.stop();
  return 0;
}
