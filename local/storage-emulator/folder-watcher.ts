import { watch, type FSWatcher } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import mime from 'mime';
import type { Logger } from '#shared/logging/logger';
import { INTERNAL_DIR } from './data-layout';
import { hashFile } from './file-hashes';
import { identity, type ObjectStore } from './object-store';
import type { FileIdentity } from './object-record';
import { sameIdentity } from './object-record';

interface Candidate {
  bucket: string;
  name: string;
  /** identity at the last look; null = the file is gone */
  last: FileIdentity | null;
  /** when `last` was first seen */
  since: number;
}

/** paths looked at (stat) at once; then the loop gets a turn */
const LOOK_BATCH = 256;
/** files hashed and registered at once: each takes several file-system round trips, and on an event loop busy with the functions every round trip waits a whole loop turn, so throughput needs many in flight */
const FINALIZE_CONCURRENCY = 64;
/** a periodic rescan waits at least this many times as long as the last one took */
const RESCAN_SPACING = 20;
/** ...but never more than this (a scan's time includes the drain of a copy in progress) */
const MAX_RESCAN_WAIT_MS = 60_000;

/**
 * Files people copy into a bucket folder become objects. The rule for a file being copied in:
 * it counts once its size, mtime and inode have stayed the same for `settleMs` (so a copy in
 * progress is never taken half written); then it is hashed and registered as a new
 * generation, which fires `finalized`. A plain file that disappears is a deletion.
 *
 * Built to take a `cp -r` of 10,000 files without stalling the process that hosts it:
 * - one non-recursive fs.watch (inotify) per folder, added as folders appear. Node's
 *   `recursive: true` on Linux polls every file with a StatWatcher and walks new trees
 *   synchronously (nodejs/performance#26, nodejs/node#48437), which is what made a large copy
 *   take the CPU and the event loop;
 * - events only mark a path dirty; one drain loop stats dirty paths in batches and yields to
 *   the event loop between batches, so HTTP requests and signals are served during a copy;
 * - a folder is listed when it is first seen, not on every event inside it;
 * - settling is one periodic sweep over the files waiting, not a timer per file;
 * - hashing and registering run FINALIZE_CONCURRENCY at a time.
 * A periodic rescan lists the folders (cheap: names only) to catch what inotify dropped; every
 * `fullRescanMs` (and in `rescan()`, which `idle()` calls) it also stats every file.
 * The store's own writes are recognised by the identity recorded in their sidecars.
 */
export class FolderWatcher {
  private readonly watches = new Map<string, FSWatcher>();
  private readonly dirty = new Set<string>();
  private readonly candidates = new Map<string, Candidate>();
  private readonly ready: Array<{ abs: string; c: Candidate; st: FileIdentity | null }> = [];
  private readonly queued = new Set<string>();
  /** queued paths that changed again while being registered */
  private readonly lookAgain = new Set<string>();
  private readyHead = 0;
  private finalizing = 0;
  /** the drain running, if any */
  private drain: Promise<void> | undefined;
  private drainScheduled = false;
  private sweeping = false;
  private looking = 0;
  private sweepTimer: NodeJS.Timeout | undefined;
  private rescanTimer: NodeJS.Timeout | undefined;
  private lastFullRescan = 0;
  /** how long the last periodic quick and full scans took (ms) */
  private readonly lastScanMs = { quick: 0, full: 0 };
  private stopped = false;

  constructor(
    private readonly store: ObjectStore,
    private readonly opts: { settleMs: number; rescanMs: number; fullRescanMs?: number; logger: Logger },
  ) {}

  async start(): Promise<void> {
    this.watchDir(this.store.layout.root);
    await this.rescan();
    const tick = Math.max(20, Math.min(250, Math.floor(this.opts.settleMs / 4)));
    this.sweepTimer = setInterval(() => void this.sweep().catch((err: unknown) => this.fail(err)), tick);
    this.sweepTimer.unref();
    this.scheduleRescan();
  }

  get busy(): boolean {
    return this.dirty.size > 0 || this.candidates.size > 0 || this.queued.size > 0 || this.finalizing > 0 || this.looking > 0;
  }

  /** how many files are waiting to settle or be registered (for logs and tests) */
  get backlog(): number {
    return this.candidates.size + this.queued.size + this.finalizing;
  }

  stop(): void {
    this.stopped = true;
    for (const w of this.watches.values()) w.close();
    this.watches.clear();
    clearInterval(this.sweepTimer);
    clearTimeout(this.rescanTimer);
    this.dirty.clear();
    this.candidates.clear();
    this.ready.length = 0;
    this.readyHead = 0;
    this.queued.clear();
    this.lookAgain.clear();
  }

  /** looks at every plain file (stat), and at every object whose plain file may be gone */
  async rescan(): Promise<void> {
    await this.scan(true);
  }

  /**
   * The periodic rescans are a safety net under inotify, and each costs time in proportion to
   * the files held: the next one waits at least RESCAN_SPACING times as long as the last took
   * (at most a minute; five for a full one), so with 100,000 objects in a bucket rescans stay a few per cent of the process's time.
   */
  private scheduleRescan(): void {
    if (this.stopped) return;
    const wait = Math.max(this.opts.rescanMs, Math.min(MAX_RESCAN_WAIT_MS, RESCAN_SPACING * this.lastScanMs.quick));
    this.rescanTimer = setTimeout(() => {
      const fullEvery = Math.max(this.opts.fullRescanMs ?? 30_000, Math.min(5 * MAX_RESCAN_WAIT_MS, RESCAN_SPACING * this.lastScanMs.full));
      const full = Date.now() - this.lastFullRescan >= fullEvery;
      const started = performance.now();
      void this.scan(full)
        .then(() => (this.lastScanMs[full ? 'full' : 'quick'] = performance.now() - started))
        .catch((err: unknown) => this.fail(err))
        .finally(() => this.scheduleRescan());
    }, wait);
    this.rescanTimer.unref();
  }

  /**
   * Lists every bucket folder. `full`: every file is looked at. Otherwise only names the
   * watcher does not account for (not an object, not settling) and objects whose file is not
   * listed: a modification inotify dropped waits for the next full scan.
   */
  private async scan(full: boolean): Promise<void> {
    if (full) this.lastFullRescan = Date.now();
    const root = this.store.layout.root;
    for (const bucket of await this.store.bucketNames()) {
      if (this.stopped) return;
      const dir = join(root, bucket);
      const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
      const seen = new Set<string>();
      this.watchDir(dir);
      for (const e of entries) {
        const abs = join(e.parentPath, e.name);
        if (e.isDirectory()) {
          if (!this.watches.has(abs)) this.markDirty(abs);
          continue;
        }
        if (!e.isFile()) continue;
        seen.add(abs);
        if (full) {
          this.markDirty(abs);
          continue;
        }
        const loc = this.store.layout.locate(relative(root, abs));
        if (loc && !this.candidates.has(abs) && !this.queued.has(abs) && this.store.get(loc.bucket, loc.name)?.storage.kind !== 'plain') this.markDirty(abs);
      }
      for (const name of this.store.plainNames(bucket)) {
        const abs = this.store.layout.plainPath(bucket, name);
        if (!seen.has(abs)) this.markDirty(abs);
      }
    }
    await this.drainDirty();
  }

  private watchDir(dir: string): void {
    if (this.stopped || this.watches.has(dir) || this.isInternal(dir)) return;
    try {
      const w = watch(dir, { persistent: false }, (_event, file) => {
        if (file) this.markDirty(join(dir, file.toString()));
      });
      w.on('error', () => this.unwatch(dir));
      this.watches.set(dir, w);
    } catch (err) {
      // gone already, or out of inotify watches: the rescans still find its files
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.opts.logger.warn('cannot watch a folder; relying on rescans', { dir, err });
    }
  }

  private unwatch(dir: string): void {
    for (const [d, w] of this.watches) {
      if (d === dir || d.startsWith(dir + sep)) {
        w.close();
        this.watches.delete(d);
      }
    }
  }

  private isInternal(abs: string): boolean {
    const rel = relative(this.store.layout.root, abs);
    return rel === INTERNAL_DIR || rel.startsWith(INTERNAL_DIR + sep);
  }

  private markDirty(abs: string): void {
    if (this.stopped || this.isInternal(abs)) return;
    this.dirty.add(abs);
    this.scheduleDrain();
  }

  /**
   * One drain, started once: a burst of marks (inotify events, a scan of 100,000 files) used to
   * queue one drain call each, and every call that found a drain running polled the event loop
   * until it ended, so 100,000 pollers took the process (GC, immediates) for minutes.
   */
  private scheduleDrain(): void {
    if (this.drainScheduled || this.drain || this.stopped) return;
    this.drainScheduled = true;
    setImmediate(() => {
      this.drainScheduled = false;
      void this.drainDirty().catch((err: unknown) => this.fail(err));
    });
  }

  /**
   * Stats dirty paths LOOK_BATCH at a time, giving the event loop a turn after each batch.
   * Callers while a drain runs share its promise; a path marked after its last batch starts
   * the next drain once it has settled.
   */
  private drainDirty(): Promise<void> {
    this.drain ??= this.drainLoop().finally(() => {
      this.drain = undefined;
      if (this.dirty.size > 0) this.scheduleDrain();
    });
    return this.drain;
  }

  private async drainLoop(): Promise<void> {
    while (this.dirty.size > 0 && !this.stopped) {
      const batch: string[] = [];
      for (const p of this.dirty) {
        batch.push(p);
        this.dirty.delete(p);
        if (batch.length >= LOOK_BATCH) break;
      }
      await Promise.all(batch.map((p) => this.look(p)));
      await yieldToLoop();
    }
  }

  private async look(abs: string): Promise<void> {
    if (this.stopped || this.store.isWriting(abs)) return;
    this.looking++;
    try {
      const s = await stat(abs).catch(() => undefined);
      if (s?.isDirectory()) {
        if (this.watches.has(abs)) return;
        // a folder made, moved or copied in: watch it first, then list it, so no file falls between
        this.watchDir(abs);
        const entries = await readdir(abs).catch(() => [] as string[]);
        for (const e of entries) this.markDirty(join(abs, e));
        return;
      }
      if (!s && this.watches.has(abs)) this.unwatch(abs);
      const loc = this.store.layout.locate(relative(this.store.layout.root, abs));
      if (!loc) return;
      const st: FileIdentity | null = s?.isFile() ? { size: s.size, mtimeMs: s.mtimeMs, ino: s.ino } : null;
      if (s && !st) return; // a socket, fifo, ...
      this.consider(abs, loc.bucket, loc.name, st, Date.now());
    } finally {
      this.looking--;
    }
  }

  /** a new identity of a path: starts (or restarts) its settling, or drops it if nothing changed */
  private consider(abs: string, bucket: string, name: string, st: FileIdentity | null, now: number): void {
    if (this.queued.has(abs)) {
      this.lookAgain.add(abs); // being registered now: looked at again once that is done
      return;
    }
    const known = this.store.get(bucket, name);
    const knownPlain = known?.storage.kind === 'plain' ? known : undefined;
    if ((st && knownPlain && sameIdentity(knownPlain.stat, st)) || (!st && !knownPlain)) {
      this.candidates.delete(abs);
      return;
    }
    const c = this.candidates.get(abs);
    const unchanged = c && (c.last === null ? st === null : st !== null && sameIdentity(c.last, st));
    if (!unchanged) this.candidates.set(abs, { bucket, name, last: st, since: now });
  }

  /** files unchanged since `settleMs` ago are looked at once more; if still unchanged, registered */
  private async sweep(): Promise<void> {
    if (this.sweeping || this.stopped || this.candidates.size === 0) return;
    this.sweeping = true;
    try {
      const now = Date.now();
      const due: string[] = [];
      for (const [abs, c] of this.candidates) if (now - c.since >= this.opts.settleMs) due.push(abs);
      for (let i = 0; i < due.length && !this.stopped; i += LOOK_BATCH) {
        await Promise.all(due.slice(i, i + LOOK_BATCH).map((abs) => this.recheck(abs)));
        await yieldToLoop();
      }
    } finally {
      this.sweeping = false;
    }
  }

  private async recheck(abs: string): Promise<void> {
    const c = this.candidates.get(abs);
    if (!c || this.store.isWriting(abs)) return;
    const st = (await identity(abs)) ?? null;
    const now = Date.now();
    const current = this.candidates.get(abs);
    if (current !== c) return; // looked at again meanwhile
    const unchanged = c.last === null ? st === null : st !== null && sameIdentity(c.last, st);
    if (!unchanged) {
      this.consider(abs, c.bucket, c.name, st, now);
      return;
    }
    this.candidates.delete(abs);
    this.queued.add(abs);
    this.ready.push({ abs, c, st });
    this.pump();
  }

  private pump(): void {
    while (this.finalizing < FINALIZE_CONCURRENCY && this.readyHead < this.ready.length && !this.stopped) {
      const { abs, c, st } = this.ready[this.readyHead++]!;
      if (this.readyHead >= 1024 && this.readyHead * 2 >= this.ready.length) {
        this.ready.splice(0, this.readyHead);
        this.readyHead = 0;
      }
      this.finalizing++;
      void this.finalize(abs, c.bucket, c.name, st)
        .catch((err: unknown) => this.fail(err))
        .finally(() => {
          this.finalizing--;
          this.queued.delete(abs);
          if (this.lookAgain.delete(abs)) this.markDirty(abs);
          this.pump();
        });
    }
  }

  private async finalize(abs: string, bucket: string, name: string, st: FileIdentity | null): Promise<void> {
    if (this.stopped) return;
    try {
      if (st === null) {
        await this.store.forgetIfMissing(bucket, name);
        this.opts.logger.info('file removed from the folder: object deleted', { bucket, object: name });
        return;
      }
      const hashes = await hashFile(abs);
      if (this.stopped) return;
      const contentType = mime.getType(name) ?? 'application/octet-stream';
      const record = await this.store.adopt(bucket, name, hashes, st, contentType);
      if (record) this.opts.logger.debug('file copied into the folder: object finalized', { bucket, object: name, generation: record.generation });
      else this.markDirtyAfter(abs);
    } catch (err) {
      // vanished while being hashed, most likely: look again
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') this.markDirtyAfter(abs);
      else throw err;
    }
  }

  /** looked at again once its registration slot is free (queued is cleared in finally) */
  private markDirtyAfter(abs: string): void {
    setImmediate(() => this.markDirty(abs));
  }

  private fail(err: unknown): void {
    this.opts.logger.error('folder watcher error', { err });
  }
}
