import { mkdir, mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '#shared/logging/logger';
import { startStorageEmulator, type StorageEmulator } from '#local/storage-emulator/start';
import { gcloudAvailable } from '#test/support/gcloud-cli';
import { uniqueProjectId } from '#test/support/emulator-env';
import { CuttingProxy, EventSink, StorageGcloud, crc32cBase64, md5Base64, seededBytes } from './gcloud-storage-support';

/**
 * The Storage emulator driven by the Google Cloud CLI as a user would (gcloud storage, JSON API,
 * endpoint override, fake token): every byte is compared with what was sent, and every checksum
 * with one computed here. gcloud switches to a resumable upload above 8 MiB
 * (storage/resumable_threshold), so the 40 MiB file takes that path; 5 MB and small files go
 * as multipart/related.
 */
const HAVE_GCLOUD = gcloudAvailable();
if (!HAVE_GCLOUD) {
  // eslint-disable-next-line no-console
  console.warn('SKIPPED test/integration/real-clients/gcloud-storage.test.ts: gcloud is not installed (the Google Cloud CLI drives these tests)');
}
/** Buffer comparison without jest walking 40 MiB element by element (and printing it on failure). */
function expectSameBytes(actual: Buffer, expected: Buffer): void {
  const summary = (b: Buffer) => ({ size: b.length, md5: md5Base64(b) });
  if (!actual.equals(expected)) expect(summary(actual)).toEqual(summary(expected));
  expect(actual.equals(expected)).toBe(true);
}

const describeWithGcloud = HAVE_GCLOUD ? describe : describe.skip;

const MiB = 1024 * 1024;
const BUCKET = 'gcloud-real-client';

interface Described {
  size: number | string;
  md5_hash: string;
  crc32c_hash: string;
  content_type: string;
  storage_url: string;
}

describeWithGcloud(`gcloud storage against the Storage emulator${HAVE_GCLOUD ? '' : ' (SKIPPED: gcloud is not installed)'}`, () => {
  let work: string;
  let emulator: StorageEmulator;
  let gcloud: StorageGcloud;
  const sink = new EventSink();
  const requests: Array<{ method: string; url: string; status: number }> = [];
  const files = {
    small: { name: 'small.txt', bytes: Buffer.from(`hello from gcloud\n${seededBytes('small', 60).toString('hex')}\n`) },
    mid: { name: 'mid.bin', bytes: seededBytes('mid', 5 * MiB + 123) },
    big: { name: 'big.bin', bytes: seededBytes('big', 40 * MiB + 7) },
  };
  const local = (...p: string[]) => join(work, ...p);
  const gs = (path = '') => `gs://${BUCKET}/${path}`;
  const requestsSince = (n: number) => requests.slice(n);
  /** object names the emulator lists under a prefix (read straight from its JSON API) */
  const namesUnder = async (prefix: string): Promise<string[]> => {
    const r = await fetch(`${emulator.url}/storage/v1/b/${BUCKET}/o?prefix=${encodeURIComponent(prefix)}`);
    return ((await r.json()) as { items: Array<{ name: string }> }).items.map((i) => i.name).sort();
  };

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'gcloud-storage-'));
    await mkdir(local('up'));
    for (const f of Object.values(files)) await writeFile(local('up', f.name), f.bytes);
    await sink.start();
    emulator = await startStorageEmulator({
      dataDir: local('data'),
      logger: createLogger({
        component: 'storage-emulator',
        minSeverity: 'DEBUG',
        write: (line) => {
          const e = JSON.parse(line) as { message: string; method: string; url: string; status: number };
          if (e.message === 'request') requests.push({ method: e.method, url: e.url, status: e.status });
        },
      }),
    });
    gcloud = new StorageGcloud({ project: uniqueProjectId(), storage: emulator.url });
  });

  afterAll(async () => {
    await emulator?.stop();
    await sink.stop();
    gcloud?.dispose();
    await rm(work, { recursive: true, force: true });
  });

  it('buckets create and list', async () => {
    await gcloud.ok(['storage', 'buckets', 'create', gs(), '--location=europe-west1']);
    await emulator.addNotification({ bucket: BUCKET, url: sink.url, eventTypes: ['finalized'] });
    const listed = JSON.parse(await gcloud.ok(['storage', 'buckets', 'list', '--format=json'])) as Array<Record<string, unknown>>;
    expect(listed).toContainEqual(expect.objectContaining({ name: BUCKET, location: 'EUROPE-WEST1', default_storage_class: 'STANDARD', storage_url: gs() }));
  });

  it('cp uploads a small, a 5 MB and a 40 MB file (multipart and resumable), each firing one finalize event', async () => {
    const mark = requests.length;
    await gcloud.ok(['storage', 'cp', local('up', files.small.name), local('up', files.mid.name), local('up', files.big.name), gs('up/')]);
    const posts = requestsSince(mark)
      .filter((r) => r.method === 'POST')
      .map((r) => r.url);
    expect(posts.filter((u) => u.includes('uploadType=multipart'))).toHaveLength(2);
    expect(posts.filter((u) => u.startsWith('/resumable/upload/') && u.includes('uploadType=resumable'))).toHaveLength(1);
    for (const f of Object.values(files)) {
      expectSameBytes(await readFile(local('data', BUCKET, 'up', f.name)), f.bytes);
    }
    await emulator.idle();
    for (const f of Object.values(files)) {
      expect(sink.finalized(`up/${f.name}`)).toBe(1);
      expect(sink.events.find((e) => e.name === `up/${f.name}`)).toMatchObject({ size: String(f.bytes.length), md5Hash: md5Base64(f.bytes) });
    }
  });

  it('objects describe reports the md5 and crc32c computed here; ls -l the sizes, ls -L the hashes', async () => {
    const big = files.big.bytes;
    const d = JSON.parse(await gcloud.ok(['storage', 'objects', 'describe', gs(`up/${files.big.name}`), '--format=json'])) as Described;
    expect({ size: Number(d.size), md5: d.md5_hash, crc32c: d.crc32c_hash, url: d.storage_url }).toEqual({
      size: big.length,
      md5: md5Base64(big),
      crc32c: crc32cBase64(big),
      url: expect.stringMatching(new RegExp(`^${gs(`up/${files.big.name}`)}#\\d+$`)),
    });
    const listing = await gcloud.ok(['storage', 'ls', '-l', gs('up/')]);
    for (const f of Object.values(files)) expect(listing).toMatch(new RegExp(`^\\s*${f.bytes.length}\\s+\\S+Z\\s+${gs(`up/${f.name}`).replace(/\./g, '\\.')}$`, 'm'));
    expect(listing).toMatch(/TOTAL: 3 objects/);
    // ls -L prints one block per object: its URL line, then Content-Length and the two hashes
    const long = await gcloud.ok(['storage', 'ls', '-L', gs('up/')]);
    for (const f of Object.values(files)) {
      const block = long.split(/\n(?=gs:\/\/)/).find((b) => b.startsWith(`${gs(`up/${f.name}`)}:`)) ?? '';
      expect(block).toMatch(new RegExp(`Content-Length:\\s+${f.bytes.length}\\n`));
      expect(block).toContain(`Hash (CRC32C):               ${crc32cBase64(f.bytes)}`);
      expect(block).toContain(`Hash (MD5):                  ${md5Base64(f.bytes)}`);
    }
  });

  it('cp downloads are byte-identical, whole and sliced into ranged reads', async () => {
    await mkdir(local('down'));
    await gcloud.ok(['storage', 'cp', gs('up/*'), local('down')]);
    for (const f of Object.values(files)) expectSameBytes(await readFile(local('down', f.name)), f.bytes);

    const mark = requests.length;
    await gcloud.with({ CLOUDSDK_STORAGE_SLICED_OBJECT_DOWNLOAD_THRESHOLD: '1M', CLOUDSDK_STORAGE_SLICED_OBJECT_DOWNLOAD_COMPONENT_SIZE: '8M' }, () =>
      gcloud.ok(['storage', 'cp', gs(`up/${files.big.name}`), local('down', 'sliced.bin')]),
    );
    const ranged = requestsSince(mark).filter((r) => r.method === 'GET' && r.url.includes('alt=media'));
    expect(ranged.length).toBeGreaterThanOrEqual(5); // 40 MiB in 8 MiB slices
    expect(ranged.every((r) => r.status === 206)).toBe(true);
    expectSameBytes(await readFile(local('down', 'sliced.bin')), files.big.bytes);
  });

  it('cat prints an object', async () => {
    expect(await gcloud.ok(['storage', 'cat', gs(`up/${files.small.name}`)])).toBe(files.small.bytes.toString('utf8'));
  });

  it('an upload from stdin goes in chunks (308 with Range) and ends when the last chunk names the size', async () => {
    const mark = requests.length;
    const r = await gcloud.with({ CLOUDSDK_STORAGE_UPLOAD_CHUNK_SIZE: '1MiB' }, () => gcloud.runWithStdin(['storage', 'cp', '-', gs('stdin/mid.bin')], local('up', files.mid.name)));
    expect(r).toMatchObject({ code: 0 });
    const puts = requestsSince(mark).filter((x) => x.method === 'PUT');
    expect(puts.map((x) => x.status)).toEqual([308, 308, 308, 308, 308, 200]); // 5 whole MiB, then 123 bytes
    expectSameBytes(await readFile(local('data', BUCKET, 'stdin', 'mid.bin')), files.mid.bytes);
  });

  it('an upload cut off mid-way resumes: status query, 308 with the Range held, the rest from there', async () => {
    const proxy = new CuttingProxy(emulator.url, 2 * MiB);
    await proxy.start();
    const viaProxy = new StorageGcloud({ project: uniqueProjectId(), storage: proxy.url });
    try {
      // a resumable upload from 1 MiB up, so the 5 MB file takes that path
      await viaProxy.with({ CLOUDSDK_STORAGE_RESUMABLE_THRESHOLD: '1M', CLOUDSDK_STORAGE_BASE_RETRY_DELAY: '0' }, () =>
        viaProxy.ok(['storage', 'cp', local('up', files.mid.name), gs('resumed/mid.bin')]),
      );
    } finally {
      viaProxy.dispose();
      await proxy.stop();
    }
    expect(proxy.cuts).toBe(1);
    const puts = proxy.seen.filter((x) => x.method === 'PUT');
    const cutAt = puts.findIndex((x) => x.status === -1);
    const query = puts[cutAt + 1]!;
    expect(query.contentRange).toMatch(/^bytes \*\/(\*|\d+)$/);
    expect(query.status).toBe(308);
    const held = /^bytes=0-(\d+)$/.exec(query.range ?? '');
    expect(held).not.toBeNull();
    const total = files.mid.bytes.length;
    expect(puts[cutAt + 2]).toMatchObject({ contentRange: `bytes ${Number(held![1]) + 1}-${total - 1}/${total}`, status: 200 });
    expectSameBytes(await readFile(local('data', BUCKET, 'resumed', 'mid.bin')), files.mid.bytes);
    await emulator.idle();
    expect(sink.finalized('resumed/mid.bin')).toBe(1);
  });

  it('cp --gzip-in-flight-all: gzip request bodies are stored decoded', async () => {
    await gcloud.ok(['storage', 'cp', '--gzip-in-flight-all', local('up', files.mid.name), gs('gzip/mid.bin')]);
    expectSameBytes(await readFile(local('data', BUCKET, 'gzip', 'mid.bin')), files.mid.bytes);
  });

  it('rsync -r uploads a folder tree, then only what changed, and deletes what went away', async () => {
    const tree = {
      'a.txt': Buffer.from('a\n'),
      'sub/b.txt': Buffer.from('bb\n'),
      'sub/deeper/c.txt': Buffer.from('ccc\n'),
      'sub/d.bin': seededBytes('d', 100_000),
    };
    for (const [p, bytes] of Object.entries(tree)) {
      await mkdir(join(local('tree'), p, '..'), { recursive: true });
      await writeFile(local('tree', p), bytes);
    }
    await gcloud.ok(['storage', 'rsync', '-r', local('tree'), gs('tree')]);
    const listed = (await gcloud.ok(['storage', 'ls', '-r', gs('tree')])).split('\n').filter((l) => /^gs:\/\/.*[^/:]$/.test(l));
    expect(listed.sort()).toEqual(
      Object.keys(tree)
        .map((p) => gs(`tree/${p}`))
        .sort(),
    );

    // rsync stores each file's mtime as custom metadata, and compares it (and the size) next time
    const resource = (await (await fetch(`${emulator.url}/storage/v1/b/${BUCKET}/o/${encodeURIComponent('tree/sub/d.bin')}`)).json()) as { metadata?: Record<string, string> };
    expect(resource.metadata?.['goog-reserved-file-mtime']).toBe(String(Math.floor((await stat(local('tree', 'sub', 'd.bin'))).mtimeMs / 1000)));
    const mark = requests.length;
    await gcloud.ok(['storage', 'rsync', '-r', local('tree'), gs('tree')]);
    expect(requestsSince(mark).filter((r) => r.method === 'POST' || r.method === 'PUT')).toEqual([]);

    await writeFile(local('tree', 'a.txt'), 'changed\n');
    await utimes(local('tree', 'a.txt'), new Date(), new Date(Date.now() + 5_000));
    await rm(local('tree', 'sub', 'b.txt'));
    await gcloud.ok(['storage', 'rsync', '-r', '--delete-unmatched-destination-objects', local('tree'), gs('tree')]);
    await emulator.idle();
    expect(sink.finalized('tree/a.txt')).toBe(2);
    expect(sink.finalized('tree/sub/d.bin')).toBe(1);
    expect(await namesUnder('tree/')).toEqual(['tree/a.txt', 'tree/sub/d.bin', 'tree/sub/deeper/c.txt']);

    await gcloud.ok(['storage', 'rsync', '-r', gs('tree'), local('tree-down')]);
    expect(await readFile(local('tree-down', 'a.txt'), 'utf8')).toBe('changed\n');
    expectSameBytes(await readFile(local('tree-down', 'sub', 'd.bin')), tree['sub/d.bin']);
    expectSameBytes(await readFile(local('tree-down', 'sub', 'deeper', 'c.txt')), tree['sub/deeper/c.txt']);
  });

  it('rm removes an object, rm -r a prefix, rm ** the rest (ls is then empty), rm -r the bucket', async () => {
    await gcloud.ok(['storage', 'rm', gs(`up/${files.small.name}`)]);
    await gcloud.ok(['storage', 'rm', '-r', gs('tree')]);
    expect(await namesUnder('')).not.toContainEqual(expect.stringMatching(/^tree\/|^up\/small\.txt$/));
    expect(await namesUnder('')).toContain(`up/${files.mid.name}`);
    await gcloud.ok(['storage', 'rm', gs('**')]);
    expect((await gcloud.ok(['storage', 'ls', gs()])).trim()).toBe('');
    await gcloud.ok(['storage', 'rm', '-r', `gs://${BUCKET}`]);
    expect((await fetch(`${emulator.url}/storage/v1/b/${BUCKET}`)).status).toBe(404);
  });
});
