/**
 * A process that serves some functions of the local stack, as a Cloud Run instance serves one
 * function: its own event loop, memory and module state. `dropship up` starts one per group of
 * local/stack/function-processes.ts under a watchdog (local/emulators/watchdog.ts), so it ends
 * with the stack however the stack ends.
 *
 * DROPSHIP_FUNCTIONS: JSON [{name, source, port?, pubsubSource?}]; each function's module
 * (functions/<source>/index.ts registers it with the functions framework) is loaded and served
 * on 127.0.0.1:port. Once all listen, {pid, functions: {name: url}} is written to
 * DROPSHIP_FUNCTIONS_READY (aside, then renamed over: a reader never sees half of it).
 */
import { z } from 'zod';
import { serveFunction } from '#local/functions-host/serve-function';
import { CPU_PROF_ENV, FUNCTIONS_ENV, READY_FILE_ENV, servedSpecSchema, type ServedSpec } from '#local/functions-host/served-spec';
import { writeReadyFile } from '#local/stack/ready-file';

async function run(): Promise<void> {
  const specs = z
    .array(servedSpecSchema)
    .min(1)
    .parse(JSON.parse(process.env[FUNCTIONS_ENV] ?? '[]'));
  const readyFile = z.string().min(1).parse(process.env[READY_FILE_ENV]);
  const urls: Record<string, string> = {};
  for (const s of specs) {
    await import(`#functions/${s.source}/index`);
    const served = await serveFunction(s.name, servedOptions(s));
    urls[s.name] = served.url;
  }
  writeReadyFile(readyFile, { pid: process.pid, functions: urls });
}

function servedOptions(s: ServedSpec): { port?: number; pubsubSource?: string } {
  return { ...(s.port ? { port: s.port } : {}), ...(s.pubsubSource ? { pubsubSource: s.pubsubSource } : {}) };
}

// A profiled process ends on SIGTERM by exiting, which is when node writes the profile. `on`,
// not `once`: the stop signals the whole group, and the watchdog then signals it again; a
// second SIGTERM with no handler left killed the process before the profile was written.
if (process.env[CPU_PROF_ENV]) process.on('SIGTERM', () => process.exit(0));

run().catch((err: unknown) => {
  process.stderr.write(`function process failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
