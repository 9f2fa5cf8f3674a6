import { randomUUID } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { DataLayout, isBucketName, isPlainName } from './data-layout';
import { GcsError, badRequest, bucketNotFound, notFound } from './gcs-error';
import { GenerationClock } from './generation-clock';
import { KeyedMutex } from './keyed-mutex';
import type { BucketRecord } from './object-resource';
import { WRITABLE_FIELDS, sameIdentity, type FileIdentity, type ObjectRecord, type WritableMetadata } from './object-record';
import { checkPreconditions, type Preconditions } from './preconditions';
import type { ContentHashes } from './file-hashes';
import { DELETED, FINALIZED, METADATA_UPDATED, type StorageEventType } from './cloud-event';

export interface StoreEvent {
  type: StorageEventType;
  record: ObjectRecord;
  time: string;
}

/** New bytes ready to become an object: a staged file under the layout's tmp folder. */
export interface StagedContent extends ContentHashes {
  file: string;
}

/**
 * The buckets and live objects, on disk and in an in-memory index loaded from the sidecars.
 * Every change to one object runs under that object's lock, so a precondition check and the
 * write it guards cannot interleave with another writer. Each change reports its events to
 * `onEvent` before the call returns.
 */
export class ObjectStore {
  private readonly index = new Map<string, Map<string, ObjectRecord>>();
  private readonly locks = new KeyedMutex();
  private readonly clock = new GenerationClock();
  /** plain paths the store is writing or removing right now; the folder watcher leaves them be */
  private readonly writing = new Set<string>();

  private constructor(
    readonly layout: DataLayout,
    private readonly onEvent: (e: StoreEvent) => void,
  ) {}

  static async open(root: string, onEvent: (e: StoreEvent) => void): Promise<ObjectStore> {
    const store = new ObjectStore(new DataLayout(root), onEvent);
    await mkdir(store.layout.tmpDir, { recursive: true });
    await mkdir(store.layout.uploadsDir, { recursive: true });
    await mkdir(join(store.layout.internal, 'buckets'), { recursive: true });
    for (const bucket of await store.bucketNames()) await store.loadBucket(bucket);
    return store;
  }

  private async loadBucket(bucket: string): Promise<Map<string, ObjectRecord>> {
    const objects = new Map<string, ObjectRecord>();
    this.index.set(bucket, objects);
    const dir = this.layout.objectMetaDir(bucket);
    const files = await readdir(dir).catch(() => [] as string[]);
    for (const f of files) {
      if (!f.endsWith('.json')) continue;
      try {
        const r = JSON.parse(await readFile(join(dir, f), 'utf8')) as ObjectRecord;
        objects.set(r.name, r);
        this.clock.observe(r.generation);
      } catch {
        // a sidecar cut short by a crash: the folder scan re-adopts the plain file
      }
    }
    return objects;
  }

  // ---- buckets ----

  async bucketNames(): Promise<string[]> {
    const entries = await readdir(this.layout.root, { withFileTypes: true }).catch(() => []);
    return entries
      .filter((e) => e.isDirectory() && isBucketName(e.name))
      .map((e) => e.name)
      .sort();
  }

  async hasBucket(bucket: string): Promise<boolean> {
    if (!isBucketName(bucket)) return false;
    const s = await stat(this.layout.bucketDir(bucket)).catch(() => undefined);
    return !!s?.isDirectory();
  }

  async getBucket(bucket: string): Promise<BucketRecord> {
    if (!(await this.hasBucket(bucket))) throw bucketNotFound(bucket);
    const saved = await readFile(this.layout.bucketMetaFile(bucket), 'utf8').then(
      (t) => JSON.parse(t) as BucketRecord,
      () => undefined,
    );
    if (saved) return saved;
    // a folder made by hand is a bucket too
    const s = await stat(this.layout.bucketDir(bucket));
    const t = (s.birthtimeMs > 0 ? s.birthtime : s.mtime).toISOString();
    return { name: bucket, timeCreated: t, updated: t, metageneration: '1', location: 'US-CENTRAL1', storageClass: 'STANDARD' };
  }

  async createBucket(bucket: string, body: { location?: string; storageClass?: string; labels?: Record<string, string> }): Promise<BucketRecord> {
    if (!isBucketName(bucket)) throw badRequest(`Invalid bucket name: '${bucket}'`);
    try {
      await mkdir(this.layout.bucketDir(bucket));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new GcsError(409, 'Your previous request to create the named bucket succeeded and you already own it.', 'conflict');
      }
      throw err;
    }
    const now = new Date().toISOString();
    const record: BucketRecord = {
      name: bucket,
      timeCreated: now,
      updated: now,
      metageneration: '1',
      location: (body.location ?? 'US-CENTRAL1').toUpperCase(),
      storageClass: body.storageClass ?? 'STANDARD',
      ...(body.labels ? { labels: body.labels } : {}),
    };
    await this.writeJsonAtomic(this.layout.bucketMetaFile(bucket), record);
    if (!this.index.has(bucket)) this.index.set(bucket, new Map());
    return record;
  }

  /** Bucket PATCH: labels merge (a label set to null is removed); storageClass is stored. */
  patchBucket(bucket: string, body: { labels?: Record<string, string | null> | null; storageClass?: string }): Promise<BucketRecord> {
    return this.locks.run(`${bucket}\0bucket`, async () => {
      const current = await this.getBucket(bucket);
      const labels: Record<string, string> = body.labels === null ? {} : { ...current.labels };
      for (const [k, v] of Object.entries(body.labels ?? {})) {
        if (v === null) delete labels[k];
        else labels[k] = String(v);
      }
      const record: BucketRecord = {
        ...current,
        ...(body.storageClass ? { storageClass: body.storageClass } : {}),
        metageneration: String(Number(current.metageneration) + 1),
        updated: new Date().toISOString(),
      };
      delete record.labels;
      if (Object.keys(labels).length) record.labels = labels;
      await this.writeJsonAtomic(this.layout.bucketMetaFile(bucket), record);
      return record;
    });
  }

  async deleteBucket(bucket: string): Promise<void> {
    if (!(await this.hasBucket(bucket))) throw bucketNotFound(bucket);
    const dir = this.layout.bucketDir(bucket);
    if ((this.index.get(bucket)?.size ?? 0) > 0 || (await containsFiles(dir))) {
      throw new GcsError(409, 'The bucket you tried to delete is not empty.', 'conflict');
    }
    await rm(dir, { recursive: true, force: true });
    await rm(this.layout.bucketMetaFile(bucket), { force: true });
    await rm(this.layout.objectMetaDir(bucket), { recursive: true, force: true });
    await rm(this.layout.blobDir(bucket), { recursive: true, force: true });
    this.index.delete(bucket);
  }

  // ---- objects ----

  get(bucket: string, name: string): ObjectRecord | undefined {
    return this.index.get(bucket)?.get(name);
  }

  /** the live object, or the JSON API's 404 (also for a generation that is not the live one) */
  async require(bucket: string, name: string, generation?: string | null): Promise<ObjectRecord> {
    if (!(await this.hasBucket(bucket))) throw bucketNotFound(bucket);
    const r = this.get(bucket, name);
    if (!r || (generation && generation !== r.generation)) throw notFound(`${bucket}/${name}${generation ? `#${generation}` : ''}`);
    return r;
  }

  sortedNames(bucket: string): string[] {
    return [...(this.index.get(bucket)?.keys() ?? [])].sort();
  }

  dataPath(r: ObjectRecord): string {
    return r.storage.kind === 'plain' ? this.layout.plainPath(r.bucket, r.name) : join(this.layout.blobDir(r.bucket), r.storage.file);
  }

  isWriting(path: string): boolean {
    return this.writing.has(path);
  }

  get busy(): boolean {
    return this.locks.busy > 0;
  }

  stagingFile(): string {
    return join(this.layout.tmpDir, randomUUID());
  }

  /** Makes staged bytes the new live generation of an object (upload, copy, compose). */
  commit(bucket: string, name: string, content: StagedContent, meta: WritableMetadata, pre: Preconditions, extra: { componentCount?: number } = {}): Promise<ObjectRecord> {
    validateObjectName(name);
    return this.locks.run(key(bucket, name), async () => {
      if (!(await this.hasBucket(bucket))) throw bucketNotFound(bucket);
      const live = this.get(bucket, name);
      checkPreconditions(pre, live);
      const generation = this.clock.next();
      const now = new Date().toISOString();
      const record = await this.place(bucket, name, content.file, generation, live, (storage, st) => ({
        bucket,
        name,
        generation,
        metageneration: '1',
        contentType: meta.contentType || 'application/octet-stream',
        size: content.size,
        md5Hash: content.md5Hash,
        crc32c: content.crc32c,
        timeCreated: now,
        updated: now,
        ...pickWritable(meta),
        ...(cleanMetadata(meta.metadata) ? { metadata: cleanMetadata(meta.metadata) } : {}),
        ...(extra.componentCount ? { componentCount: extra.componentCount } : {}),
        storage,
        stat: st,
      }));
      this.announceWrite(live, record, now);
      return record;
    });
  }

  /**
   * A file a person put into the bucket folder, settled: registers its current content as a
   * new generation unless it is the content the store already knows (a touch, or our own write).
   */
  adopt(bucket: string, name: string, hashes: ContentHashes, seen: FileIdentity, contentType: string): Promise<ObjectRecord | undefined> {
    return this.locks.run(key(bucket, name), async () => {
      if (!this.index.has(bucket)) await this.loadBucket(bucket);
      const path = this.layout.plainPath(bucket, name);
      const st = await identity(path);
      // changed again since it was hashed: the watcher will see it settle later
      if (!st || !sameIdentity(st, seen)) return undefined;
      const live = this.get(bucket, name);
      if (live?.storage.kind === 'plain' && sameIdentity(live.stat, st)) return undefined;
      if (live?.storage.kind === 'plain' && live.size === hashes.size && live.md5Hash === hashes.md5Hash && live.crc32c === hashes.crc32c) {
        const refreshed = { ...live, stat: st };
        await this.saveRecord(refreshed);
        return undefined;
      }
      const generation = this.clock.next();
      const now = new Date().toISOString();
      const record: ObjectRecord = {
        bucket,
        name,
        generation,
        metageneration: '1',
        contentType,
        ...hashes,
        timeCreated: now,
        updated: now,
        storage: { kind: 'plain' },
        stat: st,
      };
      await this.saveRecord(record);
      if (live && live.storage.kind === 'blob') await rm(this.dataPath(live), { force: true });
      this.announceWrite(live, record, now);
      return record;
    });
  }

  patch(bucket: string, name: string, body: WritableMetadata, pre: Preconditions): Promise<ObjectRecord> {
    return this.locks.run(key(bucket, name), async () => {
      const live = await this.require(bucket, name);
      checkPreconditions(pre, live);
      const metadata = { ...live.metadata };
      if (body.metadata === null) {
        for (const k of Object.keys(metadata)) delete metadata[k];
      } else if (body.metadata) {
        for (const [k, v] of Object.entries(body.metadata)) {
          if (v === null) delete metadata[k];
          else metadata[k] = String(v);
        }
      }
      const updated: ObjectRecord = {
        ...live,
        ...pickWritable(body),
        metadata,
        metageneration: String(Number(live.metageneration) + 1),
        updated: new Date().toISOString(),
      };
      if (Object.keys(metadata).length === 0) delete updated.metadata;
      await this.saveRecord(updated);
      this.onEvent({ type: METADATA_UPDATED, record: updated, time: updated.updated });
      return updated;
    });
  }

  delete(bucket: string, name: string, pre: Preconditions, generation?: string | null): Promise<ObjectRecord> {
    return this.locks.run(key(bucket, name), async () => {
      const live = await this.require(bucket, name, generation);
      checkPreconditions(pre, live);
      await this.remove(live);
      this.onEvent({ type: DELETED, record: live, time: new Date().toISOString() });
      return live;
    });
  }

  /** The plain file of a live object was removed by hand: the object is deleted. */
  forgetIfMissing(bucket: string, name: string): Promise<void> {
    return this.locks.run(key(bucket, name), async () => {
      const live = this.get(bucket, name);
      if (live?.storage.kind !== 'plain') return;
      if (await identity(this.layout.plainPath(bucket, name))) return;
      await this.remove(live);
      this.onEvent({ type: DELETED, record: live, time: new Date().toISOString() });
    });
  }

  /** plain objects of a bucket whose files are gone (for the folder watcher's rescan) */
  plainNames(bucket: string): string[] {
    return [...(this.index.get(bucket)?.values() ?? [])].filter((r) => r.storage.kind === 'plain').map((r) => r.name);
  }

  // ---- internals ----

  private async place(
    bucket: string,
    name: string,
    staged: string,
    generation: string,
    live: ObjectRecord | undefined,
    build: (storage: ObjectRecord['storage'], st: FileIdentity) => ObjectRecord,
  ): Promise<ObjectRecord> {
    const plain = this.layout.plainPath(bucket, name);
    const usePlain = isPlainName(name) && (await this.plainPathIsFree(bucket, name));
    const blob = this.layout.blobFile(bucket, name, generation);
    const dest = usePlain ? plain : blob;
    this.writing.add(dest);
    try {
      await mkdir(dirname(dest), { recursive: true });
      await rename(staged, dest);
      const st = (await identity(dest))!;
      const record = build(usePlain ? { kind: 'plain' } : { kind: 'blob', file: basename(blob) }, st);
      await this.saveRecord(record);
      if (live && live.storage.kind === 'blob' && this.dataPath(live) !== dest) await rm(this.dataPath(live), { force: true });
      return record;
    } finally {
      this.writing.delete(dest);
    }
  }

  /** the plain path is usable unless a file sits where a folder must be, or a folder where the file must be */
  private async plainPathIsFree(bucket: string, name: string): Promise<boolean> {
    const parts = name.split('/');
    let dir = this.layout.bucketDir(bucket);
    for (const part of parts.slice(0, -1)) {
      dir = join(dir, part);
      const s = await stat(dir).catch(() => undefined);
      if (s && !s.isDirectory()) return false;
      if (!s) return true;
    }
    const s = await stat(this.layout.plainPath(bucket, name)).catch(() => undefined);
    if (!s) return true;
    if (s.isDirectory()) return false;
    // a file is there: this object's own, or one not yet adopted; the write replaces it
    return true;
  }

  private async remove(live: ObjectRecord): Promise<void> {
    const path = this.dataPath(live);
    this.writing.add(path);
    try {
      this.index.get(live.bucket)?.delete(live.name);
      await rm(this.layout.objectMetaFile(live.bucket, live.name), { force: true });
      await rm(path, { force: true });
      if (live.storage.kind === 'plain') await this.pruneEmptyParents(live.bucket, path);
    } finally {
      this.writing.delete(path);
    }
  }

  private async pruneEmptyParents(bucket: string, path: string): Promise<void> {
    const top = this.layout.bucketDir(bucket);
    for (let dir = dirname(path); dir.startsWith(top + '/'); dir = dirname(dir)) {
      try {
        await rmdir(dir);
      } catch {
        return;
      }
    }
  }

  private async saveRecord(r: ObjectRecord): Promise<void> {
    await mkdir(this.layout.objectMetaDir(r.bucket), { recursive: true });
    await this.writeJsonAtomic(this.layout.objectMetaFile(r.bucket, r.name), r);
    let objects = this.index.get(r.bucket);
    if (!objects) this.index.set(r.bucket, (objects = new Map()));
    objects.set(r.name, r);
  }

  private announceWrite(live: ObjectRecord | undefined, record: ObjectRecord, time: string): void {
    // Without object versioning, Cloud Storage reports an overwritten generation as deleted.
    if (live) this.onEvent({ type: DELETED, record: live, time });
    this.onEvent({ type: FINALIZED, record, time });
  }

  async writeJsonAtomic(path: string, value: unknown): Promise<void> {
    const tmp = this.stagingFile();
    await writeFile(tmp, JSON.stringify(value, null, 1));
    await rename(tmp, path);
  }
}

function key(bucket: string, name: string): string {
  return `${bucket}\0${name}`;
}

function validateObjectName(name: string): void {
  if (!name) throw badRequest('Required object name is missing.');
  if (Buffer.byteLength(name) > 1024) throw badRequest('The object name is too long (more than 1024 bytes).');
  if (/[\r\n]/.test(name) || name === '.' || name === '..') throw badRequest(`Invalid object name: ${JSON.stringify(name)}`);
}

function pickWritable(m: WritableMetadata): Partial<ObjectRecord> {
  const out: Partial<Record<(typeof WRITABLE_FIELDS)[number], string>> = {};
  for (const f of WRITABLE_FIELDS) {
    const v = m[f];
    if (typeof v === 'string' && v !== '') out[f] = v;
  }
  return out;
}

function cleanMetadata(m: WritableMetadata['metadata']): Record<string, string> | undefined {
  if (!m) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m)) if (v !== null && v !== undefined) out[k] = String(v);
  return Object.keys(out).length ? out : undefined;
}

export async function identity(path: string): Promise<FileIdentity | undefined> {
  const s = await stat(path).catch(() => undefined);
  if (!s?.isFile()) return undefined;
  return { size: s.size, mtimeMs: s.mtimeMs, ino: s.ino };
}

async function containsFiles(dir: string): Promise<boolean> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries.some((e) => !e.isDirectory());
}
