import { extname, join } from 'node:path';
import { z } from 'zod';
import { spawnGroup, type GroupProcess, type GroupTracking } from '#local/emulators/process-group';
import { clearReadyFile, loaderArgs, waitForReadyFile } from './ready-file';

export const VERTEX_ENV = 'DROPSHIP_VERTEX';
export const VERTEX_READY_ENV = 'DROPSHIP_VERTEX_READY';
const REPO_ROOT = join(__dirname, '..', '..');
const ENTRY = join(__dirname, `vertex-process${extname(__filename)}`);
const READY_TIMEOUT_MS = 120_000;

export interface VertexChild {
  readonly process: GroupProcess;
  /** host:port of the gRPC side, for VERTEX_API_ENDPOINT */
  readonly endpoint: string;
  readonly restPort: number;
}

/** Starts local/stack/vertex-process.ts under a watchdog (recorded by `track`); resolves once it listens. */
export async function startVertexChild(opts: {
  port: number;
  restPort: number;
  dataDir: string;
  gcsRoot: string;
  storageUrl: string;
  lroDelayMs: number;
  runDir: string;
  track: GroupTracking;
}): Promise<VertexChild> {
  const readyFile = join(opts.runDir, 'vertex.ready.json');
  clearReadyFile(readyFile);
  const options = { port: opts.port, restPort: opts.restPort, dataDir: opts.dataDir, gcsRoot: opts.gcsRoot, storageUrl: opts.storageUrl, lroDelayMs: opts.lroDelayMs };
  const proc = spawnGroup(process.execPath, [...loaderArgs(), ENTRY], {
    env: { ...process.env, [VERTEX_ENV]: JSON.stringify(options), [VERTEX_READY_ENV]: readyFile },
    cwd: REPO_ROOT,
    track: opts.track,
  });
  try {
    const ready = await waitForReadyFile(readyFile, z.object({ endpoint: z.string(), restPort: z.number().int() }), proc, 'the Vertex AI emulator', READY_TIMEOUT_MS);
    return { process: proc, ...ready };
  } catch (err) {
    await proc.stop(1000);
    throw err;
  }
}
