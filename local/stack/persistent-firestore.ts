import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, spawnGroup, waitForHttp, type GroupProcess, type GroupTracking } from '#local/emulators/process-group';

/**
 * The Firestore emulator with state that survives a restart. The emulator's own
 * --export-on-exit does not run when its process group is stopped, and --import-data fails on
 * a folder without an export, so the stack exports through the emulator's REST export call
 * before stopping it and imports the newest complete export when it starts.
 */
export interface PersistentFirestore {
  readonly hostPort: string;
  readonly process: GroupProcess;
  /** exports every document to dataDir; keeps only the newest export */
  exportTo(): Promise<void>;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 60_000;

export async function startPersistentFirestore(opts: { dataDir: string; logDir: string; project: string; port?: number; track?: GroupTracking }): Promise<PersistentFirestore> {
  mkdirSync(opts.dataDir, { recursive: true });
  const port = opts.port ?? (await freePort());
  const args = ['emulators', 'firestore', 'start', `--host-port=127.0.0.1:${port}`];
  const previous = newestExport(opts.dataDir);
  if (previous) args.push(`--import-data=${previous.metadataFile}`);
  const proc = spawnGroup('gcloud', args, { logFile: join(opts.logDir, 'firestore-emulator.log'), track: opts.track });
  try {
    await waitForHttp(`http://127.0.0.1:${port}/`, proc, READY_TIMEOUT_MS, 'the Firestore emulator');
  } catch (err) {
    await proc.stop(1000);
    throw err;
  }
  const hostPort = `127.0.0.1:${port}`;
  const exportTo = async () => {
    const res = await fetch(`http://${hostPort}/emulator/v1/projects/${opts.project}:export`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ database: `projects/${opts.project}/databases/(default)`, export_directory: opts.dataDir }),
      signal: AbortSignal.timeout(30_000),
    });
    if (!res.ok) throw new Error(`Firestore export answered ${res.status}: ${await res.text()}`);
    const newest = newestExport(opts.dataDir);
    for (const dir of listExports(opts.dataDir)) {
      if (dir.dir !== newest?.dir) rmSync(dir.dir, { recursive: true, force: true });
    }
  };
  return { hostPort, process: proc, exportTo, stop: () => proc.stop() };
}

interface ExportDir {
  dir: string;
  metadataFile: string;
  mtimeMs: number;
}

function listExports(root: string): ExportDir[] {
  const out: ExportDir[] = [];
  for (const name of safeReaddir(root)) {
    const dir = join(root, name);
    const metadataFile = join(dir, `${name}.overall_export_metadata`);
    try {
      out.push({ dir, metadataFile, mtimeMs: statSync(metadataFile).mtimeMs });
    } catch {
      // an export cut short: no metadata file, nothing to import
    }
  }
  return out;
}

function newestExport(root: string): ExportDir | undefined {
  return listExports(root).sort((a, b) => b.mtimeMs - a.mtimeMs)[0];
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
