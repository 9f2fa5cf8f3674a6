import { watch, type FSWatcher } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import mime from 'mime';
import type { Logger } from '#shared/logging/logger';
import { hashFile } from './file-hashes';
import { identity, type ObjectStore } from './object-store';
import type { FileIdentity } from './object-record';
import { sameIdentity } from './object-record';

interface Candidate {
  bucket: string;
  name: string;
  /** identity at the last look; null = the file is gone */
  last: FileIdentity | null;
  since: number;
  timer?: NodeJS.Timeout;
}

/**
 * Files people copy into a bucket folder become objects. A file counts once its size, mtime
 * and inode have stayed the same for `settleMs` (so a copy in progress is not taken half
 * written); then it is hashed and registered as a new generation, which fires `finalized`.
 * A plain file that disappears is a deletion. fs.watch (recursive) notices changes quickly;
 * a periodic rescan catches whatever inotify missed (new subfolders, overflowing queues).
 * The store's own writes are recognised by the identity recorded in their sidecars.
 */
export class FolderWatcher {
  private readonly candidates = new Map<string, Candidate>();
  private inflight = 0;
  private watcher: FSWatcher | undefined;
  private rescanTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly store: ObjectStore,
    private readonly opts: { settleMs: number; rescanMs: number; logger: Logger },
  ) {}

  async start(): Promise<void> {
    const root = this.store.layout.root;
    try {
      this.watcher = watch(root, { recursive: true }, (_event, file) => {
        if (file) void this.observe(join(root, file.toString())).catch((err: unknown) => this.fail(err));
      });
      this.watcher.on('error', (err) => this.opts.logger.warn('folder watch failed; relying on rescans', { err }));
    } catch (err) {
      this.opts.logger.warn('fs.watch unavailable; relying on rescans', { err });
    }
    await this.rescan();
    this.rescanTimer = setInterval(() => void this.rescan().catch((err: unknown) => this.fail(err)), this.opts.rescanMs);
    this.rescanTimer.unref();
  }

  get busy(): boolean {
    return this.candidates.size > 0 || this.inflight > 0;
  }

  stop(): void {
    this.stopped = true;
    this.watcher?.close();
    clearInterval(this.rescanTimer);
    for (const c of this.candidates.values()) clearTimeout(c.timer);
    this.candidates.clear();
  }

  /** looks at every plain file, and at every object whose plain file may be gone */
  async rescan(): Promise<void> {
    const root = this.store.layout.root;
    for (const bucket of await this.store.bucketNames()) {
      const dir = join(root, bucket);
      const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
      const seen = new Set<string>();
      for (const e of entries) {
        if (!e.isFile()) continue;
        const abs = join(e.parentPath, e.name);
        seen.add(abs);
        await this.observe(abs);
      }
      for (const name of this.store.plainNames(bucket)) {
        const abs = this.store.layout.plainPath(bucket, name);
        if (!seen.has(abs)) await this.observe(abs);
      }
    }
  }

  private async observe(abs: string): Promise<void> {
    if (this.stopped || this.store.isWriting(abs)) return;
    const loc = this.store.layout.locate(relative(this.store.layout.root, abs));
    if (!loc) return;
    const st = (await identity(abs)) ?? null;
    if (!st) {
      const s = await stat(abs).catch(() => undefined);
      if (s?.isDirectory()) {
        // a folder moved or copied in: its files may have raised no events of their own
        const entries = await readdir(abs, { withFileTypes: true, recursive: true }).catch(() => []);
        for (const e of entries) if (e.isFile()) await this.observe(join(e.parentPath, e.name));
        return;
      }
    }
    const known = this.store.get(loc.bucket, loc.name);
    const knownPlain = known?.storage.kind === 'plain' ? known : undefined;
    if ((st && knownPlain && sameIdentity(knownPlain.stat, st)) || (!st && !knownPlain)) {
      this.drop(abs);
      return;
    }
    const now = Date.now();
    const c = this.candidates.get(abs);
    const unchanged = c && (c.last === null ? st === null : st !== null && sameIdentity(c.last, st));
    if (c && unchanged && now - c.since >= this.opts.settleMs) {
      this.drop(abs);
      await this.finalize(abs, loc.bucket, loc.name, st);
      return;
    }
    const next: Candidate = unchanged && c ? c : { bucket: loc.bucket, name: loc.name, last: st, since: now };
    clearTimeout(c?.timer);
    next.timer = setTimeout(() => void this.observe(abs).catch((err: unknown) => this.fail(err)), Math.max(10, next.since + this.opts.settleMs - now));
    this.candidates.set(abs, next);
  }

  private drop(abs: string): void {
    const c = this.candidates.get(abs);
    if (!c) return;
    clearTimeout(c.timer);
    this.candidates.delete(abs);
  }

  private async finalize(abs: string, bucket: string, name: string, st: FileIdentity | null): Promise<void> {
    this.inflight++;
    try {
      if (st === null) {
        await this.store.forgetIfMissing(bucket, name);
        this.opts.logger.info('file removed from the folder: object deleted', { bucket, object: name });
        return;
      }
      const hashes = await hashFile(abs);
      const contentType = mime.getType(name) ?? 'application/octet-stream';
      const record = await this.store.adopt(bucket, name, hashes, st, contentType);
      if (record) this.opts.logger.info('file copied into the folder: object finalized', { bucket, object: name, generation: record.generation });
      else await this.observe(abs);
    } catch (err) {
      // vanished while being hashed, most likely: look again
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') await this.observe(abs);
      else throw err;
    } finally {
      this.inflight--;
    }
  }

  private fail(err: unknown): void {
    this.opts.logger.error('folder watcher error', { err });
  }
}
