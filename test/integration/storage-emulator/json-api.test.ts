import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { Storage, type Bucket } from '@google-cloud/storage';
import { silentLogger } from '#shared/logging/logger';
import { startStorageEmulator, type StorageEmulator } from '#local/storage-emulator/start';
import { uniqueProjectId } from '#test/support/emulator-env';

describe('storage emulator with the real @google-cloud/storage client', () => {
  let dataDir: string;
  let emulator: StorageEmulator;
  let storage: Storage;
  let bucket: Bucket;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'storage-emu-api-'));
    emulator = await startStorageEmulator({ dataDir, settleMs: 100, logger: silentLogger });
    storage = new Storage({ apiEndpoint: emulator.url, projectId: uniqueProjectId() });
    [bucket] = await storage.createBucket('api-bucket');
  });

  afterAll(async () => {
    await emulator?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('creates, gets, lists and deletes buckets (409 when not empty, 404 when gone)', async () => {
    const [other] = await storage.createBucket('other-bucket');
    await expect(storage.createBucket('other-bucket')).rejects.toMatchObject({ code: 409 });
    const [buckets] = await storage.getBuckets();
    expect(buckets.map((b) => b.name)).toEqual(expect.arrayContaining(['api-bucket', 'other-bucket']));
    await other.file('x').save('x');
    await expect(other.delete()).rejects.toMatchObject({ code: 409 });
    await other.file('x').delete();
    await other.delete();
    expect((await other.exists())[0]).toBe(false);
    await expect(storage.bucket('no-such-bucket').file('a').getMetadata()).rejects.toMatchObject({ code: 404 });
  });

  it('stores a multi-MB resumable upload as a plain file with the hashes and size the client checks', async () => {
    const bytes = randomBytes(5 * 1024 * 1024 + 17);
    const file = bucket.file('models/m1/v1/variables/variables.data-00000-of-00001');
    await file.save(bytes, { resumable: true, chunkSize: 2 * 1024 * 1024, contentType: 'application/octet-stream' });
    const [meta] = await file.getMetadata();
    expect(meta.size).toBe(String(bytes.length));
    expect(meta.md5Hash).toBe(createHash('md5').update(bytes).digest('base64'));
    expect(meta.crc32c).toMatch(/^[A-Za-z0-9+/]{6}==$/);
    // a person sees the object as a plain file (compared with equals: jest's toEqual crawls 5 MB)
    expect((await readFile(join(dataDir, 'api-bucket', 'models/m1/v1/variables/variables.data-00000-of-00001'))).equals(bytes)).toBe(true);
    const [back] = await file.download(); // validates crc32c against x-goog-hash
    expect(back.equals(bytes)).toBe(true);
    const [part] = await file.download({ start: 1000, end: 1999 });
    expect(part.equals(bytes.subarray(1000, 2000))).toBe(true);
  });

  it('takes simple (multipart) and streamed uploads with content type and custom metadata', async () => {
    await bucket.file('notes/simple.json').save('{"a":1}', { resumable: false, contentType: 'application/json', metadata: { metadata: { origin: 'test' } } });
    const [meta] = await bucket.file('notes/simple.json').getMetadata();
    expect(meta).toMatchObject({ contentType: 'application/json', metadata: { origin: 'test' }, size: '7', metageneration: '1' });
    await new Promise<void>((resolve, reject) => {
      const s = bucket.file('notes/streamed.txt').createWriteStream({ contentType: 'text/plain' });
      s.on('error', reject).on('finish', resolve);
      s.end('streamed body');
    });
    expect((await bucket.file('notes/streamed.txt').download())[0].toString()).toBe('streamed body');
  });

  it('lists with prefix, delimiter and pages', async () => {
    const names = ['list/a.txt', 'list/b.txt', 'list/sub/c.txt', 'list/sub/d.txt', 'list/z/e.txt'];
    await Promise.all(names.map((n) => bucket.file(n).save(n, { resumable: false })));
    const [files, , resp] = await bucket.getFiles({ prefix: 'list/', delimiter: '/', autoPaginate: false });
    expect(files.map((f) => f.name)).toEqual(['list/a.txt', 'list/b.txt']);
    expect((resp as { prefixes?: string[] }).prefixes).toEqual(['list/sub/', 'list/z/']);
    const pages: string[][] = [];
    let query: Record<string, unknown> | null = { prefix: 'list/', maxResults: 2, autoPaginate: false };
    while (query) {
      const [page, next] = await bucket.getFiles(query);
      pages.push(page.map((f) => f.name));
      query = next as Record<string, unknown> | null;
    }
    expect(pages).toEqual([names.slice(0, 2), names.slice(2, 4), names.slice(4)]);
    const [allAtOnce] = await bucket.getFiles({ prefix: 'list/', versions: false });
    expect(allAtOnce.map((f) => f.name)).toEqual(names);
    // with `fields` the client hands back the items as the server cut them down
    const [projected] = await bucket.getFiles({ prefix: 'list/sub/', fields: 'items(name,size)', autoPaginate: false });
    expect(projected).toEqual([
      { name: 'list/sub/c.txt', size: '14' },
      { name: 'list/sub/d.txt', size: '14' },
    ]);
  });

  it('gives every write a new, larger generation and enforces generation preconditions with 412', async () => {
    const file = bucket.file('gen/object.txt');
    await file.save('one', { preconditionOpts: { ifGenerationMatch: 0 } });
    const [m1] = await file.getMetadata();
    await expect(file.save('again', { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } })).rejects.toMatchObject({ code: 412 });
    await expect(file.save('stale', { resumable: false, preconditionOpts: { ifGenerationMatch: Number(m1.generation) + 1 } })).rejects.toMatchObject({ code: 412 });
    await file.save('two', { resumable: false, preconditionOpts: { ifGenerationMatch: Number(m1.generation) } });
    const [m2] = await file.getMetadata();
    expect(BigInt(m2.generation!)).toBeGreaterThan(BigInt(m1.generation!));
    await expect(file.setMetadata({ metadata: { x: '1' } }, { ifMetagenerationMatch: 7 })).rejects.toMatchObject({ code: 412 });
    const [patched] = await file.setMetadata({ metadata: { x: '1' } }, { ifMetagenerationMatch: 1 });
    expect(patched).toMatchObject({ metageneration: '2', generation: m2.generation, metadata: { x: '1' } });
    await expect(file.delete({ ifGenerationMatch: m1.generation })).rejects.toMatchObject({ code: 412 });
    await expect(bucket.file('gen/object.txt', { generation: m1.generation }).download()).rejects.toMatchObject({ code: 404 });
    await file.delete({ ifGenerationMatch: m2.generation });
    expect((await file.exists())[0]).toBe(false);
    // racing "create if absent" writes: exactly one wins
    const race = await Promise.allSettled([1, 2, 3].map((i) => bucket.file('gen/claim.txt').save(`writer ${i}`, { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } })));
    expect(race.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(race.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code)).toEqual([412, 412]);
  });

  it('copies (rewrite), composes and moves objects', async () => {
    await bucket.file('cp/src.txt').save('source', { resumable: false, contentType: 'text/plain', metadata: { metadata: { k: 'v' } } });
    await bucket.file('cp/src.txt').copy(bucket.file('cp/dst.txt'));
    const [dst] = await bucket.file('cp/dst.txt').getMetadata();
    expect(dst).toMatchObject({ contentType: 'text/plain', metadata: { k: 'v' }, size: '6' });
    await bucket.file('cp/part2.txt').save('-more', { resumable: false });
    await bucket.combine(['cp/src.txt', 'cp/part2.txt'], 'cp/combined.txt');
    expect((await bucket.file('cp/combined.txt').download())[0].toString()).toBe('source-more');
    await bucket.file('cp/dst.txt').move('cp/moved.txt');
    expect((await bucket.file('cp/dst.txt').exists())[0]).toBe(false);
    expect((await bucket.file('cp/moved.txt').download())[0].toString()).toBe('source');
  });

  it('keeps objects whose names are not plain paths (trailing slash, file beside folder, unicode)', async () => {
    const names = ['odd/', 'odd/x', 'odd', 'odd/ü ñ #?.txt', 'odd//double'];
    for (const n of names) await bucket.file(n).save(`body of ${n}`, { resumable: false });
    for (const n of names) expect((await bucket.file(n).download())[0].toString()).toBe(`body of ${n}`);
    const [listed] = await bucket.getFiles({ prefix: 'odd' });
    expect(listed.map((f) => f.name).sort()).toEqual([...names].sort());
  });

  it('answers the client through STORAGE_EMULATOR_HOST as well', async () => {
    const saved = process.env.STORAGE_EMULATOR_HOST;
    process.env.STORAGE_EMULATOR_HOST = emulator.url;
    try {
      const viaEnv = new Storage({ projectId: uniqueProjectId() });
      await viaEnv.bucket('api-bucket').file('env/obj.txt').save('via env');
      expect((await viaEnv.bucket('api-bucket').file('env/obj.txt').download())[0].toString()).toBe('via env');
      const [files] = await viaEnv.bucket('api-bucket').getFiles({ prefix: 'env/' });
      expect(files.map((f) => f.name)).toEqual(['env/obj.txt']);
    } finally {
      if (saved === undefined) delete process.env.STORAGE_EMULATOR_HOST;
      else process.env.STORAGE_EMULATOR_HOST = saved;
    }
  });
});
