import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { extname } from 'node:path';
import type { z } from 'zod';
import type { GroupProcess } from '#local/emulators/process-group';

/**
 * How a child process of the stack says it listens: it writes a small JSON file (aside, then
 * renamed over, so a reader never sees half of it) that the stack waits for.
 */
export function writeReadyFile(path: string, body: unknown): void {
  writeFileSync(`${path}.tmp`, JSON.stringify(body) + '\n');
  renameSync(`${path}.tmp`, path);
}

export function clearReadyFile(path: string): void {
  rmSync(path, { force: true });
}

/** Resolves with the file's parsed content; rejects if the process exits first or the deadline passes. */
export async function waitForReadyFile<T>(path: string, schema: z.ZodType<T>, proc: GroupProcess, label: string, timeoutMs: number): Promise<T> {
  let exited: number | null | undefined;
  void proc.exited.then((code) => (exited = code));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (existsSync(path)) return schema.parse(JSON.parse(readFileSync(path, 'utf8')));
    if (exited !== undefined) throw new Error(`the process serving ${label} exited (code ${exited}) before it was ready`);
    if (Date.now() > deadline) throw new Error(`the process serving ${label} was not ready within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** how a child process runs a file of the stack: from source through tsx, or compiled JavaScript */
export function loaderArgs(): string[] {
  return extname(__filename) === '.ts' ? ['--conditions=source', '--import', 'tsx'] : [];
}
