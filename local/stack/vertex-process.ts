/**
 * The Vertex AI emulator in a process of its own, as `dropship up` runs it (under a watchdog,
 * like the gcloud emulators and the function processes): on Google Cloud the endpoint has
 * machines of its own, and in the stack's process its request handling (image decoding,
 * tensors, protobuf) and garbage collection took the event loop the Storage emulator and the
 * control server answer on. DROPSHIP_VERTEX holds its options (JSON); once it listens it writes
 * {endpoint, restPort} to DROPSHIP_VERTEX_READY. SIGTERM stops it cleanly.
 */
import { z } from 'zod';
import { startVertexEmulator } from '#local/vertex-emulator/start';
import { writeReadyFile } from './ready-file';
import { VERTEX_ENV, VERTEX_READY_ENV } from './vertex-child';

const optionsSchema = z.object({
  port: z.number().int().positive(),
  restPort: z.number().int().positive(),
  dataDir: z.string().min(1),
  gcsRoot: z.string().min(1),
  storageUrl: z.string().min(1),
  lroDelayMs: z.number().int().nonnegative(),
});

async function run(): Promise<void> {
  const o = optionsSchema.parse(JSON.parse(process.env[VERTEX_ENV] ?? '{}'));
  const readyFile = z.string().min(1).parse(process.env[VERTEX_READY_ENV]);
  const emulator = await startVertexEmulator(o);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void emulator.stop().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  writeReadyFile(readyFile, { endpoint: emulator.endpoint, restPort: emulator.restPort });
}

run().catch((err: unknown) => {
  process.stderr.write(`Vertex AI emulator process failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
