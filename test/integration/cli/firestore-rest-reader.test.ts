import { Firestore, Timestamp } from '@google-cloud/firestore';
import { clientReader } from '#local/cli/document-reader';
import { restReader, type Send, sendHttp } from '#local/cli/firestore-rest-reader';
import { readResults } from '#local/cli/results';
import { readStatus, renderStatus } from '#local/cli/status';
import { requireEmulatorEnv, uniqueProjectId } from '#test/support/emulator-env';

/**
 * `dropship status` and `results` read Firestore over REST so that no client library loads;
 * they must see exactly what the Node client sees. Documents of every value type are written
 * with the client to the Firestore emulator, then read both ways and compared.
 */
const project = uniqueProjectId('demo-rest');
const host = requireEmulatorEnv().firestore;
const db = new Firestore({ projectId: project });
const rest = restReader({ baseUrl: `http://${host}`, project, headers: async () => ({ authorization: 'Bearer owner' }) });

/** a Timestamp (the client's or the reader's) as its seconds, nanoseconds and toDate() */
const normalize = (v: unknown): unknown => {
  if (Buffer.isBuffer(v)) return { bytes: v.toString('hex') };
  if (v && typeof v === 'object' && typeof (v as { toDate?: unknown }).toDate === 'function') {
    const t = v as { _seconds: number; _nanoseconds: number; toDate(): Date };
    return { seconds: t._seconds, nanos: t._nanoseconds, date: t.toDate().toISOString(), json: JSON.parse(JSON.stringify(t)) };
  }
  if (Array.isArray(v)) return v.map(normalize);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalize(x)]));
  return v;
};

beforeAll(async () => {
  await db.doc('models/alpha').set({ model: 'alpha', endpoint: 'projects/p/locations/r/endpoints/alpha', traffic: { v1: 90, v2: 10 }, updatedAt: '2026-12-01T00:00:00.000Z' });
  await db.doc('models/alpha/versions/v1').set({
    version: 'v1',
    state: 'DEPLOYED',
    traffic: 'replace',
    createdAt: '2026-12-01T00:00:00.000Z',
    updatedAt: '2026-12-01T00:01:00.000Z',
    history: [{ from: null, to: 'PENDING', at: '2026-12-01T00:00:00.000Z' }],
    lease: { holder: 'x' },
  });
  await db
    .doc('models/alpha/versions/v2')
    .set({ version: 'v2', state: 'CANARY_ANALYSIS', traffic: 'canary:10', trafficPercent: 10, createdAt: '2026-12-01T00:02:00.000Z', updatedAt: '2026-12-01T00:03:00.000Z', history: [] });
  // versions under a model whose own document does not exist yet (written at registration)
  await db.doc('models/bravo/versions/v1').set({ version: 'v1', state: 'VALIDATING', traffic: 'replace', createdAt: '2026-12-01T00:04:00.000Z', updatedAt: '2026-12-01T00:04:00.000Z', history: [] });
  await db.doc('jobs/j1').set({ job: 'j1', state: 'COMPLETED', counts: { ok: 2, error: 1 }, createdAt: Timestamp.fromMillis(1_796_000_000_123) });
  await db.doc('jobs/j1/results/a').set({
    imageUri: 'gs://b/j1/a.png',
    status: 'OK',
    label: '7',
    confidence: 0.9876543210123,
    latencyMs: 12,
    big: 9_007_199_254_740_991,
    negative: -3,
    zero: 0,
    nan: Number.NaN,
    inf: Number.POSITIVE_INFINITY,
    flag: true,
    nothing: null,
    empty: '',
    bytes: Buffer.from([0, 1, 2, 254, 255]),
    list: [1, 'two', { three: 3, four: [4] }, null],
    emptyList: [],
    emptyMap: {},
    nested: { at: new Timestamp(1_796_000_000, 999_999_999), deeper: { s: 'x' } },
    // micros that round up when the client turns them into a Date
    createdAt: new Timestamp(1_796_000_000, 123_678_900),
    generation: '1796192929963017',
    publishLeaseUntil: 5,
  });
  await db.doc('jobs/j1/results/b').set({ imageUri: 'gs://b/j1/b.png', status: 'ERROR', error: 'not an image', reason: 'NOT_AN_IMAGE', createdAt: new Timestamp(1_796_000_001, 500_000) });
  await db.doc('jobs/j1/results/id with spaces').set({ imageUri: 'gs://b/j1/c d.png', status: 'OK', label: '1', confidence: 1 });
  await db.doc('jobs/only-results/results/x').set({ imageUri: 'gs://b/only-results/x.png', status: 'OK' });
});

afterAll(async () => {
  await db.terminate();
});

test('every value type decodes as the Node client decodes it', async () => {
  const [viaClient, viaRest] = await Promise.all([clientReader(db).list('jobs/j1/results'), rest.list('jobs/j1/results')]);
  expect(viaRest.map((d) => d.id)).toEqual(viaClient.map((d) => d.id));
  expect(viaRest.map((d) => d.id)).toContain('id with spaces');
  expect(normalize(viaRest)).toEqual(normalize(viaClient));
  expect(normalize((await rest.get('jobs/j1'))!)).toEqual(normalize((await clientReader(db).get('jobs/j1'))!));
});

test('get says undefined for a missing document; listIds includes a parent that only has subcollections', async () => {
  expect(await rest.get('models/nope')).toBeUndefined();
  expect(await rest.get('jobs/only-results')).toBeUndefined();
  expect((await rest.listIds('models')).sort()).toEqual(['alpha', 'bravo']);
  expect((await rest.listIds('models')).sort()).toEqual((await clientReader(db).listIds('models')).sort());
  expect(await rest.list('models/nope/versions')).toEqual([]);
});

test('status and results read the same over REST as through the client', async () => {
  const [a, b] = await Promise.all([readStatus(db), readStatus(rest)]);
  expect(b).toEqual(a);
  expect(renderStatus(b)).toBe(renderStatus(a));
  expect(b.map((m) => m.model)).toEqual(['alpha', 'bravo']);
  expect(await readStatus(rest, 'alpha')).toEqual(await readStatus(db, 'alpha'));
  const [ra, rb] = await Promise.all([readResults(db, 'j1'), readResults(rest, 'j1')]);
  expect(JSON.stringify(rb)).toBe(JSON.stringify(ra));
  expect(rb[0]!.createdAt).toBe(new Timestamp(1_796_000_000, 123_678_900).toDate().toISOString());
  expect(await readResults(rest, 'only-results')).toHaveLength(1);
  await expect(readResults(rest, 'no-such-job')).rejects.toThrow('no job no-such-job');
});

test('pages of ListDocuments are followed to the end (the server caps a page below what is asked)', async () => {
  const batch = db.batch();
  for (let i = 0; i < 1205; i++) batch.set(db.doc(`many/d${String(i).padStart(4, '0')}`), { i });
  await batch.commit();
  let calls = 0;
  const counting: Send = (url, init) => {
    calls++;
    return sendHttp(url, init);
  };
  const ids = await restReader({ baseUrl: `http://${host}`, project, headers: async () => ({ authorization: 'Bearer owner' }), send: counting }).listIds('many');
  expect(ids).toHaveLength(1205);
  expect(new Set(ids).size).toBe(1205);
  expect(calls).toBeGreaterThan(1);
});

test("an error answer says Firestore's status and message", async () => {
  const failing: Send = async () => ({ status: 403, text: JSON.stringify({ error: { code: 403, status: 'PERMISSION_DENIED', message: 'Missing or insufficient permissions.' } }) });
  const r = restReader({ baseUrl: 'https://firestore.googleapis.com', project: 'p', headers: async () => ({}), send: failing });
  await expect(r.list('jobs/j/results')).rejects.toThrow('Firestore answered 403 PERMISSION_DENIED: Missing or insufficient permissions.');
  await expect(r.get('jobs/j')).rejects.toThrow('403');
});

test('Google Cloud: the reader asks firestore.googleapis.com with the credentials it is given, paths encoded', async () => {
  const seen: Array<{ url: string; auth?: string; method: string }> = [];
  const recording: Send = async (url, init) => {
    seen.push({ url, auth: init.headers.authorization, method: init.method });
    return { status: 200, text: url.includes(':runQuery') ? '[{"readTime":"2026-12-01T00:00:00Z"}]' : '{}' };
  };
  const r = restReader({ baseUrl: 'https://firestore.googleapis.com', project: 'my-proj', headers: async () => ({ authorization: 'Bearer t0k' }), send: recording });
  await r.get('jobs/a b');
  expect(await r.list('jobs/a b/results')).toEqual([]);
  expect(seen).toEqual([
    { url: 'https://firestore.googleapis.com/v1/projects/my-proj/databases/(default)/documents/jobs/a%20b', auth: 'Bearer t0k', method: 'GET' },
    { url: 'https://firestore.googleapis.com/v1/projects/my-proj/databases/(default)/documents/jobs/a%20b:runQuery', auth: 'Bearer t0k', method: 'POST' },
  ]);
});
