import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * <data>/stack.json: where every part of a running local stack listens, so that other
 * commands (and tests) find it. Written once the stack is ready, removed when it stops.
 */
export const stackInfoSchema = z.object({
  pid: z.number().int().positive(),
  /** the process groups the stack started (emulators), so a check can prove none is left */
  processGroups: z.array(z.number().int().positive()),
  startedAt: z.string(),
  readyAt: z.string(),
  dataDir: z.string(),
  project: z.string(),
  region: z.string(),
  /** http://127.0.0.1:port of the stack's own control server: GET /ping answers {pid} */
  controlUrl: z.string(),
  pubsubEmulatorHost: z.string(),
  firestoreEmulatorHost: z.string(),
  storage: z.object({ url: z.string(), dataDir: z.string() }),
  vertex: z.object({ endpoint: z.string(), restPort: z.number().int().optional() }),
  buckets: z.object({ models: z.string(), images: z.string() }),
  topics: z.record(z.string(), z.string()),
  functions: z.record(z.string(), z.string()),
});

export type StackInfo = z.infer<typeof stackInfoSchema>;

export class StackNotRunningError extends Error {
  constructor(dataDir: string, detail: string) {
    super(`the local stack is not running: start it with \`npx dropship up\` (${detail}; data folder ${dataDir})`);
    this.name = 'StackNotRunningError';
  }
}

export function stackFilePath(dataDir: string): string {
  return join(dataDir, 'stack.json');
}

export function writeStackFile(info: StackInfo): void {
  mkdirSync(info.dataDir, { recursive: true });
  const path = stackFilePath(info.dataDir);
  // Readers must never see half a file: write aside, then rename over.
  writeFileSync(`${path}.tmp`, JSON.stringify(info, null, 2) + '\n');
  renameSync(`${path}.tmp`, path);
}

export function removeStackFile(dataDir: string, pid: number): void {
  const current = readStackFileIfAny(dataDir);
  if (current && current.pid !== pid) return;
  rmSync(stackFilePath(dataDir), { force: true });
}

export function readStackFileIfAny(dataDir: string): StackInfo | undefined {
  let text: string;
  try {
    text = readFileSync(stackFilePath(dataDir), 'utf8');
  } catch {
    return undefined;
  }
  const parsed = stackInfoSchema.safeParse(safeJson(text));
  return parsed.success ? parsed.data : undefined;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The running stack of this data folder: stack.json present, its process alive, and its control server answering. */
export async function findRunningStack(dataDir: string): Promise<StackInfo> {
  const info = readStackFileIfAny(dataDir);
  if (!info) throw new StackNotRunningError(dataDir, 'no stack.json');
  if (!isProcessAlive(info.pid)) throw new StackNotRunningError(dataDir, `process ${info.pid} is gone`);
  try {
    const { status, body } = await getPing(`${info.controlUrl}ping`);
    if (status !== 200 || body.pid !== info.pid) throw new Error(`answered ${status}`);
  } catch (err) {
    throw new StackNotRunningError(dataDir, `its control server at ${info.controlUrl} does not answer: ${(err as Error).message}`);
  }
  return info;
}

/** node:http rather than fetch: fetch's first call costs ~70 ms of CPU (undici), a fifth of a quick `dropship status` */
function getPing(url: string): Promise<{ status: number; body: { pid?: number } }> {
  return new Promise((resolve, reject) => {
    const req = get(url, { timeout: 3000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as { pid?: number } });
        } catch (err) {
          reject(err as Error);
        }
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 3 s')));
    req.on('error', reject);
  });
}
