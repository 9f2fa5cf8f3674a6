import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GcsError, badRequest } from './gcs-error';
import type { WritableMetadata } from './object-record';
import type { Preconditions } from './preconditions';
import type { UploadRange } from './byte-range';

/** A resumable upload session, kept on disk so an upload can resume after a restart. */
export interface UploadSession {
  id: string;
  bucket: string;
  name: string;
  metadata: WritableMetadata;
  preconditions: Preconditions;
  createdAt: string;
}

export type ChunkOutcome = { kind: 'incomplete'; received: number } | { kind: 'complete'; dataFile: string; session: UploadSession };

/**
 * Sessions and their bytes under <data>/.storage-emulator/uploads: <id>.json and <id>.data.
 * A PUT carries bytes from some offset; the session answers 308 with the range it holds until
 * the last byte of a known total (or the end of a `bytes a-* /*` stream) arrives.
 */
export class ResumableUploads {
  constructor(private readonly dir: string) {}

  async create(s: Omit<UploadSession, 'id' | 'createdAt'>): Promise<UploadSession> {
    const session: UploadSession = { ...s, id: randomUUID().replaceAll('-', ''), createdAt: new Date().toISOString() };
    await writeFile(this.dataFile(session.id), '');
    await writeFile(this.sessionFile(session.id), JSON.stringify(session));
    return session;
  }

  async get(id: string): Promise<UploadSession> {
    if (!/^[0-9a-f]{32}$/.test(id)) throw notFoundSession();
    const text = await readFile(this.sessionFile(id), 'utf8').catch(() => undefined);
    if (!text) throw notFoundSession();
    return JSON.parse(text) as UploadSession;
  }

  async received(id: string): Promise<number> {
    return (await stat(this.dataFile(id))).size;
  }

  /** Writes one PUT's bytes at their offset; says whether the upload is now whole. */
  async put(session: UploadSession, range: UploadRange | undefined, body: Readable): Promise<ChunkOutcome> {
    const r: UploadRange = range ?? { kind: 'data', start: 0 };
    const held = await this.received(session.id);
    if (r.kind === 'query') {
      body.resume();
      if (r.total !== undefined && held > r.total) throw badRequest(`upload holds ${held} bytes, more than the declared ${r.total}`);
      if (r.total !== undefined && held === r.total) return { kind: 'complete', dataFile: this.dataFile(session.id), session };
      return { kind: 'incomplete', received: held };
    }
    if (r.start > held) {
      body.resume();
      return { kind: 'incomplete', received: held };
    }
    // bytes before `held` that arrive again are the same bytes: rewriting them is harmless
    await pipeline(body, createWriteStream(this.dataFile(session.id), { flags: 'r+', start: r.start }));
    const now = await this.received(session.id);
    if (r.total !== undefined) {
      if (now > r.total) {
        // Cloud Storage keeps none of a chunk that overruns the declared size
        await truncate(this.dataFile(session.id), held);
        throw badRequest(`upload holds ${now} bytes, more than the declared ${r.total}`);
      }
      if (now === r.total) return { kind: 'complete', dataFile: this.dataFile(session.id), session };
      return { kind: 'incomplete', received: now };
    }
    if (r.end === undefined) return { kind: 'complete', dataFile: this.dataFile(session.id), session };
    return { kind: 'incomplete', received: now };
  }

  async discard(id: string): Promise<void> {
    await rm(this.sessionFile(id), { force: true });
    await rm(this.dataFile(id), { force: true });
  }

  private sessionFile(id: string): string {
    return join(this.dir, `${id}.json`);
  }

  private dataFile(id: string): string {
    return join(this.dir, `${id}.data`);
  }
}

function notFoundSession(): GcsError {
  return new GcsError(404, 'No such upload session.', 'notFound');
}
