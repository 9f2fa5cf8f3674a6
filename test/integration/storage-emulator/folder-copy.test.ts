import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DROPSHIP, REPO_ROOT, cliEnv } from '../cli/run-cli';

/**
 * A folder copy into a running Storage emulator (`dropship storage-emulator`, its own process),
 * scaled down from the 10,000 files of the bench (`npm run bench -- --only folder-copy`):
 * `cp -r` of 1,000 files registers every one exactly once, with one finalize event each and
 * the right MD5; a request sent while the files are still being registered is answered before
 * they all are; a file written slowly in pieces registers once, complete, never truncated; and
 * SIGTERM in the middle of a second copy stops the emulator.
 */
const FILES = 1000;
const SETTLE_MS = 400;
const BUCKET = 'folder-copy-bkt';
const FINALIZED = 'google.cloud.storage.object.v1.finalized';

const root = mkdtempSync(join(tmpdir(), 'dropship-folder-copy-'));
const data = join(root, 'data');
const events: Array<{ type: string; name: string; size: string; md5Hash: string }> = [];
let receiver: Server;
let emulator: ChildProcess;
let exited: Promise<{ code: number | null; signal: string | null }>;
let url = '';

/** deterministic file contents: 2-10 KB, like small images */
function fileBytes(i: number): Buffer {
  const size = 2048 + ((i * 7919) % 8192);
  const out = Buffer.alloc(size);
  let x = (i + 1) * 2654435761;
  for (let j = 0; j < size; j++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[j] = x >>> 24;
  }
  return out;
}

function writeSource(dir: string, n: number): Map<string, string> {
  mkdirSync(dir, { recursive: true });
  const md5 = new Map<string, string>();
  for (let i = 0; i < n; i++) {
    const name = `img-${String(i).padStart(5, '0')}.png`;
    const bytes = fileBytes(i);
    writeFileSync(join(dir, name), bytes);
    md5.set(name, createHash('md5').update(bytes).digest('base64'));
  }
  return md5;
}

async function waitFor(what: string, done: () => boolean, timeoutMs = 90_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function cp(from: string, to: string): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const c = spawn('cp', ['-r', from, to], { stdio: 'ignore' });
    c.on('error', reject);
    c.on('exit', resolve);
  });
}

const finalizedUnder = (prefix: string) => events.filter((e) => e.type === FINALIZED && e.name.startsWith(prefix));

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { name: string; size: string; md5Hash: string };
      events.push({ type: String(req.headers['ce-type']), name: body.name, size: body.size, md5Hash: body.md5Hash });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((ok) => receiver.listen(0, '127.0.0.1', ok));
  mkdirSync(join(data, BUCKET), { recursive: true });
  emulator = spawn(DROPSHIP, ['storage-emulator', '--port', '0', '--data', data, '--settle-ms', String(SETTLE_MS)], {
    cwd: REPO_ROOT,
    env: { ...cliEnv(), LOG_LEVEL: 'WARNING' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  exited = new Promise((resolve) => emulator.on('exit', (code, signal) => resolve({ code, signal })));
  url = await new Promise<string>((resolve, reject) => {
    let out = '';
    emulator.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    void exited.then(() => reject(new Error(`the storage emulator exited: ${out}`)));
  });
  const res = await fetch(`${url}/emulator/notifications`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ bucket: BUCKET, url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`, eventTypes: [FINALIZED] }),
  });
  expect(res.status).toBe(200);
});

afterAll(async () => {
  if (emulator.exitCode === null && emulator.signalCode === null) emulator.kill('SIGKILL');
  receiver?.closeAllConnections();
  await new Promise<void>((ok) => (receiver ? receiver.close(() => ok()) : ok()));
  rmSync(root, { recursive: true, force: true });
});

test(`cp -r of ${FILES} files: each registered once, one finalize event each, and the emulator answers meanwhile`, async () => {
  const md5 = writeSource(join(root, 'src1'), FILES);
  const copied = cp(join(root, 'src1'), join(data, BUCKET, 'job1'));
  // A request while the copy is being taken in: answered before every file is registered.
  await waitFor('the first registration', () => finalizedUnder('job1/').length > 0);
  const res = await fetch(`${url}/storage/v1/b/${BUCKET}`);
  const registeredWhenAnswered = finalizedUnder('job1/').length;
  expect(res.status).toBe(200);
  expect(registeredWhenAnswered).toBeLessThan(FILES);
  expect(await copied).toBe(0);

  await waitFor(`${FILES} finalize events`, () => finalizedUnder('job1/').length >= FILES);
  expect((await fetch(`${url}/emulator/idle`)).status).toBe(200);
  const got = finalizedUnder('job1/');
  expect(got).toHaveLength(FILES);
  expect(new Set(got.map((e) => e.name)).size).toBe(FILES);
  for (const e of got) expect(e.md5Hash).toBe(md5.get(e.name.slice('job1/'.length)));

  const names: string[] = [];
  for (let page: string | undefined = ''; page !== undefined; ) {
    const list = (await (await fetch(`${url}/storage/v1/b/${BUCKET}/o?prefix=job1/&maxResults=1000${page ? `&pageToken=${page}` : ''}`)).json()) as {
      items?: Array<{ name: string }>;
      nextPageToken?: string;
    };
    names.push(...(list.items ?? []).map((i) => i.name));
    page = list.nextPageToken;
  }
  expect(names.sort()).toEqual([...md5.keys()].map((n) => `job1/${n}`).sort());
});

test('a file written slowly, in pieces, registers once and complete', async () => {
  mkdirSync(join(data, BUCKET, 'slow'), { recursive: true });
  const file = join(data, BUCKET, 'slow', 'big.bin');
  const piece = Buffer.alloc(64 * 1024, 7);
  writeFileSync(file, piece);
  for (let i = 1; i < 6; i++) {
    await new Promise((r) => setTimeout(r, SETTLE_MS / 4));
    appendFileSync(file, piece);
  }
  await waitFor('the slow file', () => finalizedUnder('slow/').length > 0);
  expect((await fetch(`${url}/emulator/idle`)).status).toBe(200);
  expect(finalizedUnder('slow/').map((e) => e.size)).toEqual([String(6 * piece.length)]);
});

test('SIGTERM in the middle of a folder copy stops the emulator', async () => {
  writeSource(join(root, 'src2'), FILES);
  const copied = cp(join(root, 'src2'), join(data, BUCKET, 'job2'));
  await waitFor('the second copy to start registering', () => finalizedUnder('job2/').length > 0);
  expect(finalizedUnder('job2/').length).toBeLessThan(FILES);
  emulator.kill('SIGTERM');
  const outcome = await Promise.race([exited, new Promise((r) => setTimeout(() => r('still running 20 s after SIGTERM'), 20_000))]);
  expect(outcome).toEqual({ code: 0, signal: null });
  await copied;
});
