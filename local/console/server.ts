import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { DocumentData, Firestore, Query } from '@google-cloud/firestore';
import type { Storage } from '@google-cloud/storage';
import { readStatus } from '#local/cli/status';

export interface ConsoleOptions {
  firestore: Firestore;
  storage: Storage;
  /** local or cloud, and the project, shown in the page header */
  kind: string;
  project: string;
  /** where thumbnails are cached */
  cacheDir: string;
  /** the images bucket, to count a folder job's images (it has no total) */
  imagesBucket?: string;
  port?: number;
  /** how long the Firestore listeners outlive the last open page (default 10 s: a reload reconnects within a second) */
  unlistenAfterMs?: number;
}

export interface RunningConsole {
  url: string;
  /** whether the Firestore listeners run (only while a page has /events open) */
  readonly listening: boolean;
  close(): Promise<void>;
}

const REPO = join(__dirname, '..', '..');
/** Client files: our own, and the libraries' ES modules straight from node_modules (no CDN, no build). */
const ASSETS: Record<string, { file: string; type: string }> = {
  '/': { file: join(__dirname, 'client', 'index.html'), type: 'text/html; charset=utf-8' },
  '/app.js': { file: join(__dirname, 'client', 'app.js'), type: 'text/javascript' },
  '/vendor/preact.mjs': { file: join(REPO, 'node_modules/preact/dist/preact.mjs'), type: 'text/javascript' },
  '/vendor/hooks.mjs': { file: join(REPO, 'node_modules/preact/hooks/dist/hooks.mjs'), type: 'text/javascript' },
  '/vendor/htm.mjs': { file: join(REPO, 'node_modules/htm/dist/htm.mjs'), type: 'text/javascript' },
  '/vendor/uplot.mjs': { file: join(REPO, 'node_modules/uplot/dist/uPlot.esm.js'), type: 'text/javascript' },
  '/vendor/uplot.css': { file: join(REPO, 'node_modules/uplot/dist/uPlot.min.css'), type: 'text/css' },
};

const PAGE = 48;
const THUMB_SIZES = new Set([160, 800]);
const NO_PREVIEW = `<svg xmlns="http://www.w3.org/2000/svg" width="160" height="160"><rect width="160" height="160" fill="#eee"/><text x="80" y="85" font-size="14" text-anchor="middle" fill="#888">no preview</text></svg>`;

/**
 * The console's HTTP server, on 127.0.0.1 only. It only reads: Firestore (models, versions,
 * jobs, results) and the images bucket (for thumbnails, made here with sharp and cached on
 * disk by image URI + generation, so the browser never gets an original).
 */
export async function startConsole(opts: ConsoleOptions): Promise<RunningConsole> {
  const db = opts.firestore;
  mkdirSync(opts.cacheDir, { recursive: true });
  /** known once listening; the Host check compares against it */
  let port = 0;
  const clients = new Set<ServerResponse>();
  const broadcast = (event: string, data: unknown) => {
    for (const c of clients) c.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  // Live: Firestore listeners on the server; the browser hears which part changed over SSE and re-reads it.
  // biome-ignore lint/correctness/noUnusedVariables: read by `timer ??=` below (Biome counts a logical assignment as a write only)
  let timer: NodeJS.Timeout | undefined;
  const pending = new Set<string>();
  const changed = (what: string) => {
    pending.add(what);
    timer ??= setTimeout(() => {
      timer = undefined;
      for (const w of pending) broadcast('changed', { what: w });
      pending.clear();
    }, 300);
  };
  // Listened to only while a page is open: a listener costs the database work on every write it
  // might match (on Google Cloud, a read billed per change), and nobody needs it with no page open.
  let unsubs: Array<() => void> = [];
  let unlistenTimer: NodeJS.Timeout | undefined;
  const listen = () => {
    clearTimeout(unlistenTimer);
    unlistenTimer = undefined;
    if (unsubs.length > 0) return;
    const watched: Array<[Query, string]> = [
      [db.collection('models'), 'models'],
      [db.collectionGroup('versions'), 'models'],
      [db.collection('jobs'), 'jobs'],
      [db.collectionGroup('counters'), 'jobs'],
    ];
    unsubs = watched.map(([query, what]) =>
      query.onSnapshot(
        () => changed(what),
        () => undefined,
      ),
    );
  };
  const unlisten = () => {
    clearTimeout(unlistenTimer);
    unlistenTimer = undefined;
    for (const u of unsubs.splice(0)) u();
  };
  /** the last page gone: the listeners stop a little later, so a reload keeps them */
  const unlistenSoon = () => {
    if (clients.size > 0) return;
    clearTimeout(unlistenTimer);
    unlistenTimer = setTimeout(unlisten, opts.unlistenAfterMs ?? 10_000);
    unlistenTimer.unref();
  };

  const routes: Array<[RegExp, (m: RegExpMatchArray, url: URL) => Promise<unknown>]> = [
    [/^\/api\/target$/, async () => ({ kind: opts.kind, project: opts.project })],
    [/^\/api\/models$/, async () => readStatus(db)],
    [/^\/api\/jobs$/, async () => listJobs(db)],
    [/^\/api\/jobs\/([^/]+)$/, async (m) => jobSummary(db, opts.storage, opts.imagesBucket, decodeURIComponent(m[1]!))],
    [/^\/api\/jobs\/([^/]+)\/results$/, async (m, url) => resultsPage(db, decodeURIComponent(m[1]!), url.searchParams)],
    [/^\/api\/jobs\/([^/]+)\/results\/([^/]+)$/, async (m) => resultDetail(db, decodeURIComponent(m[1]!), decodeURIComponent(m[2]!))],
  ];

  const server = createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: (err as Error).message }));
    });
  });
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // DNS rebinding: a page of another site whose name is made to resolve to 127.0.0.1 reaches
    // this port, but its requests carry that name in Host. Only our own names are answered.
    if (!isOwnHost(req.headers.host, port)) {
      res.writeHead(403, { 'content-type': 'text/plain' }).end(`forbidden: the console answers only Host 127.0.0.1:${port} or localhost:${port}\n`);
      return;
    }
    // Read-only: nothing here changes Firestore or Storage, and no other method is answered.
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('the console is read-only\n');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const asset = ASSETS[url.pathname];
    if (asset) {
      res.writeHead(200, { 'content-type': asset.type, 'cache-control': 'no-cache' });
      res.end(readFileSync(asset.file));
      return;
    }
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    if (url.pathname === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      res.write('retry: 1000\n\n');
      clients.add(res);
      listen();
      req.on('close', () => {
        clients.delete(res);
        unlistenSoon();
      });
      return;
    }
    const thumb = url.pathname.match(/^\/thumb\/([^/]+)\/([^/]+)$/);
    if (thumb) {
      const size = Number(url.searchParams.get('size') ?? 160);
      const body = await thumbnail(db, opts.storage, opts.cacheDir, decodeURIComponent(thumb[1]!), decodeURIComponent(thumb[2]!), THUMB_SIZES.has(size) ? size : 160);
      res.writeHead(200, { 'content-type': body ? 'image/webp' : 'image/svg+xml', 'cache-control': 'max-age=3600' });
      res.end(body ?? NO_PREVIEW);
      return;
    }
    for (const [re, fn] of routes) {
      const m = url.pathname.match(re);
      if (!m) continue;
      const out = await fn(m, url);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(out));
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    get listening() {
      return unsubs.length > 0;
    },
    async close() {
      unlisten();
      for (const c of clients) c.end();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** the Host header names this console: 127.0.0.1 or localhost, with its port (browsers always send it) */
export function isOwnHost(host: string | undefined, port: number): boolean {
  return host === `127.0.0.1:${port}` || host?.toLowerCase() === `localhost:${port}`;
}

const plain = (d: DocumentData): DocumentData =>
  JSON.parse(JSON.stringify(d, (_k, v: unknown) => (v && typeof (v as { toDate?: unknown }).toDate === 'function' ? (v as { toDate(): Date }).toDate().toISOString() : v))) as DocumentData;

async function listJobs(db: Firestore): Promise<DocumentData[]> {
  const snap = await db.collection('jobs').limit(500).get();
  return snap.docs.map((d): DocumentData => ({ ...plain(d.data()), job: d.id })).sort((a, b) => String(b.createdAt ?? '').localeCompare(String(a.createdAt ?? '')));
}

/** Counts exact by aggregation; errors grouped by reason from the first 2,000 ERROR results. */
async function jobSummary(db: Firestore, storage: Storage, bucket: string | undefined, job: string): Promise<unknown> {
  const ref = db.collection('jobs').doc(job);
  const results = ref.collection('results');
  const [snap, ok, error, errors] = await Promise.all([
    ref.get(),
    results.where('status', '==', 'OK').count().get(),
    results.where('status', '==', 'ERROR').count().get(),
    results.where('status', '==', 'ERROR').select('reason', 'error').limit(2000).get(),
  ]);
  const doc = snap.exists ? plain(snap.data()!) : { job };
  const byReason: Record<string, { count: number; example: string }> = {};
  for (const e of errors.docs) {
    const r = String(e.get('reason') ?? 'UNKNOWN');
    (byReason[r] ??= { count: 0, example: String(e.get('error') ?? '') }).count++;
  }
  const counts = { ok: ok.data().count, error: error.data().count };
  return { ...doc, counts, expected: typeof doc.total === 'number' ? doc.total : await imagesUnder(storage, bucket, job).catch(() => null), errorsByReason: byReason, errorsSampled: errors.size };
}

/** A folder job has no total: its images are the objects under <job>/ that are not instructions. */
async function imagesUnder(storage: Storage, bucket: string | undefined, job: string): Promise<number | null> {
  if (!bucket) return null;
  const [files] = await storage.bucket(bucket).getFiles({ prefix: `${job}/` });
  return files.filter((f) => !/\/_(job\.json|manifest\.(jsonl|txt))$/.test(f.name)).length;
}

/**
 * One page of results, with Firestore cursors (so a 100,000-image job costs a page per view).
 * Equality filters on status and label are ordered by document id, which Firestore serves by
 * merging single-field indexes; a confidence bound orders by confidence and needs a composite
 * index on Google Cloud (the emulator needs none).
 */
async function resultsPage(db: Firestore, job: string, p: URLSearchParams): Promise<unknown> {
  let q: Query = db.collection('jobs').doc(job).collection('results');
  const status = p.get('status');
  const label = p.get('label');
  const min = p.get('minConfidence');
  if (status) q = q.where('status', '==', status);
  if (label) q = q.where('label', '==', label);
  const byConfidence = min !== null && min !== '';
  if (byConfidence) q = q.where('confidence', '>=', Number(min)).orderBy('confidence', 'desc');
  // the id order follows the last order's direction: that is the index Firestore keeps (terraform/firestore.tf)
  q = q.orderBy('__name__', byConfidence ? 'desc' : 'asc');
  const after = p.get('after');
  if (after) q = q.startAfter(...(JSON.parse(Buffer.from(after, 'base64url').toString('utf8')) as unknown[]));
  const snap = await q.limit(PAGE).get();
  const rows = snap.docs.map((d) => ({ ...plain(d.data()), id: d.id }));
  const last = snap.docs[snap.docs.length - 1];
  const cursor = last ? Buffer.from(JSON.stringify(byConfidence ? [last.get('confidence'), last.id] : [last.id])).toString('base64url') : null;
  return { results: rows, next: snap.size === PAGE ? cursor : null };
}

/** The full result document and the deployed model (version record) that answered it. */
async function resultDetail(db: Firestore, job: string, id: string): Promise<unknown> {
  const snap = await db.collection('jobs').doc(job).collection('results').doc(id).get();
  if (!snap.exists) return { error: `no result ${id} in job ${job}` };
  const r = plain(snap.data()!);
  let version: DocumentData | null = null;
  if (r.modelName && r.deployedModelId) {
    const v = await db.collection('models').doc(String(r.modelName)).collection('versions').where('deployedModelId', '==', r.deployedModelId).limit(1).get();
    version = v.empty ? null : plain(v.docs[0]!.data());
  }
  return { result: { ...r, id }, answeredBy: version };
}

const inFlight = new Map<string, Promise<Buffer | undefined>>();

async function thumbnail(db: Firestore, storage: Storage, cacheDir: string, job: string, id: string, size: number): Promise<Buffer | undefined> {
  const snap = await db.collection('jobs').doc(job).collection('results').doc(id).get();
  const uri = String(snap.get('imageUri') ?? '');
  const generation = snap.get('generation') as string | null;
  const m = uri.match(/^gs:\/\/([^/]+)\/(.+)$/);
  if (!m || !generation) return undefined;
  const key = createHash('sha256').update(`${uri}#${generation}@${size}`).digest('hex');
  const file = join(cacheDir, `${key}.webp`);
  const cached = await readFile(file).catch(() => undefined);
  if (cached) return cached;
  let p = inFlight.get(key);
  if (!p) {
    p = (async () => {
      try {
        const [bytes] = await storage
          .bucket(m[1]!)
          .file(m[2]!, { generation: Number(generation) })
          .download();
        const { default: sharp } = await import('sharp');
        const out = await sharp(bytes, { limitInputPixels: 100_000_000 })
          .resize(size, size, { fit: 'inside', withoutEnlargement: size > 160 })
          .webp({ quality: 80 })
          .toBuffer();
        await writeFile(file, out);
        return out;
      } catch {
        return undefined;
      } finally {
        inFlight.delete(key);
      }
    })();
    inFlight.set(key, p);
  }
  return p;
}
