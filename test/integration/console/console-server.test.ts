import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Firestore } from '@google-cloud/firestore';
import { Storage } from '@google-cloud/storage';
import { startConsole, type RunningConsole } from '#local/console/server';
import { requireEmulatorEnv, uniqueProjectId } from '#test/support/emulator-env';

/**
 * The console's HTTP server on its own (no browser): it answers only requests whose Host is
 * its own 127.0.0.1:<port> or localhost:<port>, so a page of another site rebound to
 * 127.0.0.1 by DNS gets 403 and reads nothing; and it is read-only: no method but GET and
 * HEAD is answered, on any path, and nothing in Firestore changes.
 */
requireEmulatorEnv();
const project = uniqueProjectId('demo-console');
const db = new Firestore({ projectId: project });
const cacheDir = mkdtempSync(join(tmpdir(), 'dropship-console-test-'));
let web: RunningConsole;
let port: number;

/** one raw request, with the Host header we choose (fetch would not let us) */
function send(path: string, opts: { host?: string | null; method?: string } = {}): Promise<{ status: number; body: string; type?: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (opts.host !== null) headers.host = opts.host ?? `127.0.0.1:${port}`;
    const req = request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers, setHost: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      // server-sent events never end: the first chunk is enough
      res.on('data', (c: string) => {
        body += c;
        if (String(res.headers['content-type']).startsWith('text/event-stream')) res.destroy();
      });
      const done = () => resolve({ status: res.statusCode ?? 0, body, ...(res.headers['content-type'] ? { type: String(res.headers['content-type']) } : {}) });
      res.on('end', done);
      res.on('close', done);
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  await db.doc('models/digits').set({ model: 'digits', endpoint: 'projects/p/locations/r/endpoints/digits', traffic: { v1: 100 } });
  await db.doc('models/digits/versions/v1').set({ version: 'v1', state: 'DEPLOYED', traffic: 'replace', createdAt: '2026-12-01T00:00:00.000Z', updatedAt: '2026-12-01T00:00:00.000Z', history: [] });
  await db.doc('jobs/j1').set({ job: 'j1', state: 'RUNNING', total: 2 });
  web = await startConsole({ firestore: db, storage: new Storage({ apiEndpoint: 'http://127.0.0.1:9', projectId: project }), kind: 'local', project, cacheDir, unlistenAfterMs: 200 });
  port = Number(new URL(web.url).port);
});

afterAll(async () => {
  await web?.close();
  await db.terminate();
  rmSync(cacheDir, { recursive: true, force: true });
});

test('its own names are answered: 127.0.0.1:<port> and localhost:<port>', async () => {
  for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LocalHost:${port}`]) {
    const models = await send('/api/models', { host });
    expect({ host, status: models.status }).toEqual({ host, status: 200 });
    expect(JSON.parse(models.body)).toEqual([expect.objectContaining({ model: 'digits', traffic: { v1: 100 } })]);
  }
  expect((await send('/')).body).toContain('<html');
  expect((await send('/events')).status).toBe(200);
});

test('Firestore is listened to only while a page has /events open: a job change reaches it, and the listeners stop after the last page goes', async () => {
  await waitFor(() => !web.listening, 'no listeners before a page opens');
  const got: string[] = [];
  const stream = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/events' }, resolve);
    req.on('error', reject);
    req.end();
  });
  stream.setEncoding('utf8');
  stream.on('data', (c: string) => got.push(c));
  expect(web.listening).toBe(true);
  // the first snapshots arrive (and are announced) first; a change after them is announced too
  await new Promise((r) => setTimeout(r, 1000));
  got.length = 0;
  await db.doc('jobs/j-live').set({ job: 'j-live', state: 'RUNNING' });
  await waitFor(() => got.join('').includes('"what":"jobs"'), 'the job change announced');
  stream.destroy();
  await waitFor(() => !web.listening, 'listeners stopped after the page closed');
  await db.doc('jobs/j-live').delete();
});

async function waitFor(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('any other Host gets 403 and no data, on every path (DNS rebinding)', async () => {
  const hosts = [`evil.example:${port}`, 'evil.example', `127.0.0.1:${port + 1}`, '127.0.0.1', 'localhost', `localhost.evil.example:${port}`, `127.0.0.2:${port}`, `[::1]:${port}`, ''];
  for (const host of hosts) {
    for (const path of ['/', '/app.js', '/api/models', '/api/jobs', '/api/jobs/j1', '/api/jobs/j1/results', '/events', '/thumb/j1/a']) {
      const r = await send(path, { host });
      expect({ host, path, status: r.status }).toEqual({ host, path, status: 403 });
      expect(r.body).not.toContain('digits');
    }
  }
  // no Host at all: Node's HTTP/1.1 server refuses it before the console sees it
  expect((await send('/api/models', { host: null })).status).toBe(400);
});

test('read-only: POST, PUT, PATCH and DELETE are refused on every path, and Firestore is unchanged', async () => {
  const before = JSON.stringify((await db.doc('jobs/j1').get()).data());
  for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
    for (const path of ['/api/models', '/api/jobs/j1', '/api/jobs/j1/results', '/events', '/']) {
      const r = await send(path, { method });
      expect({ method, path, status: r.status }).toEqual({ method, path, status: 405 });
    }
  }
  expect(JSON.stringify((await db.doc('jobs/j1').get()).data())).toBe(before);
  expect((await send('/api/jobs/j1', { method: 'HEAD' })).status).toBe(200);
});
