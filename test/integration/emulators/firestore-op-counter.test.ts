import http from 'node:http';
import http2 from 'node:http2';
import { Firestore } from '@google-cloud/firestore';
import { emptyCounts, type FirestoreOpCounts } from '#local/emulators/grpc-frames';
import { type FirestoreOpCounter, startFirestoreOpCounter } from '#local/emulators/firestore-op-counter';
import { freePort } from '#local/emulators/process-group';
import { requireEmulatorEnv, uniqueProjectId } from '../../support/emulator-env';

/**
 * The op counter in front of the real Firestore emulator: the client talks to it exactly as to
 * the emulator, gets the same data and errors back, and the counter counts what a bill would.
 */
const projectId = uniqueProjectId('demo-counter');
let counter: FirestoreOpCounter;
let direct: Firestore;
let proxied: Firestore;

/**
 * FIRESTORE_EMULATOR_HOST wins over the host/port/ssl settings and the client reads it once,
 * in its constructor: set it to the proxy for that moment only, so the other clients of this
 * worker keep the real emulator.
 */
function firestoreAt(host: string): Firestore {
  const saved = process.env.FIRESTORE_EMULATOR_HOST;
  process.env.FIRESTORE_EMULATOR_HOST = host;
  try {
    return new Firestore({ projectId });
  } finally {
    process.env.FIRESTORE_EMULATOR_HOST = saved;
  }
}

/** the counts of what `act` did through the proxy, and nothing else */
async function counted(act: () => Promise<unknown>): Promise<FirestoreOpCounts> {
  counter.reset();
  await act();
  return counter.counts();
}

const expected = (c: Partial<FirestoreOpCounts>): FirestoreOpCounts => ({ ...emptyCounts(), ...c });

beforeAll(async () => {
  const { firestore } = requireEmulatorEnv();
  counter = await startFirestoreOpCounter({ target: firestore });
  direct = new Firestore({ projectId });
  proxied = firestoreAt(counter.host);
  // the client's first call opens its channel; counted tests below start from there
  await proxied.doc('warmup/w').get();
});

afterAll(async () => {
  await proxied?.terminate();
  await direct?.terminate();
  await counter?.close();
});

it('binds 127.0.0.1 on an ephemeral port', () => {
  expect(counter.host).toMatch(/^127\.0\.0\.1:\d+$/);
  expect(counter.host).not.toBe(process.env.FIRESTORE_EMULATOR_HOST);
});

it('counts a batch of 3 sets as 1 Commit and 3 writes, and the data reads back the same directly', async () => {
  const data = { a: { n: 1, tags: ['x', 'y'], at: new Date('2026-01-02T03:04:05Z') }, b: { n: 2, nested: { deep: true } }, c: { n: 3, none: null } };
  const counts = await counted(async () => {
    const batch = proxied.batch();
    for (const [id, d] of Object.entries(data)) batch.set(proxied.doc(`batch/${id}`), d);
    await batch.commit();
  });
  expect(counts).toEqual(expected({ calls: { Commit: 1 }, writes: 3 }));
  for (const id of Object.keys(data)) {
    const [viaProxy, viaEmulator] = await Promise.all([proxied.doc(`batch/${id}`).get(), direct.doc(`batch/${id}`).get()]);
    expect(viaProxy.data()).toEqual(viaEmulator.data());
    expect(viaProxy.updateTime!.isEqual(viaEmulator.updateTime!)).toBe(true);
  }
  expect((await direct.doc('batch/a').get()).get('at').toDate()).toEqual(data.a.at);
});

it('counts a getAll of 2 existing documents and 1 missing one as 3 reads, 1 of them missing', async () => {
  await direct.doc('get/one').set({ v: 1 });
  await direct.doc('get/two').set({ v: 2 });
  let snaps: FirebaseFirestore.DocumentSnapshot[] = [];
  const counts = await counted(async () => {
    snaps = await proxied.getAll(proxied.doc('get/one'), proxied.doc('get/two'), proxied.doc('get/nope'));
  });
  expect(snaps.map((s) => s.data())).toEqual([{ v: 1 }, { v: 2 }, undefined]);
  expect(counts).toEqual(expected({ calls: { BatchGetDocuments: 1 }, reads: 3, missing: 1 }));
});

it('counts a query returning 4 documents as 4 reads, and a count() as 1', async () => {
  const batch = direct.batch();
  for (let i = 0; i < 4; i++) batch.set(direct.doc(`query/d${i}`), { i });
  await batch.commit();
  let ids: string[] = [];
  const query = await counted(async () => {
    ids = (await proxied.collection('query').orderBy('i').get()).docs.map((d) => d.id);
  });
  expect(ids).toEqual(['d0', 'd1', 'd2', 'd3']);
  expect(query).toEqual(expected({ calls: { RunQuery: 1 }, reads: 4 }));

  let n = -1;
  const aggregation = await counted(async () => {
    n = (await proxied.collection('query').count().get()).data().count;
  });
  expect(n).toBe(4);
  expect(aggregation).toEqual(expected({ calls: { RunAggregationQuery: 1 }, reads: 1 }));
});

it('counts a read-modify-write transaction: the read begins it (no BeginTransaction call), the commit writes', async () => {
  await direct.doc('txn/t').set({ n: 1 });
  const counts = await counted(() =>
    proxied.runTransaction(async (t) => {
      const snap = await t.get(proxied.doc('txn/t'));
      t.update(proxied.doc('txn/t'), { n: (snap.get('n') as number) + 1 });
    }),
  );
  // this client (9.x) sends newTransaction with the first read instead of calling BeginTransaction
  expect(counts).toEqual(expected({ calls: { BatchGetDocuments: 1, Commit: 1 }, reads: 1, writes: 1 }));
  expect((await direct.doc('txn/t').get()).data()).toEqual({ n: 2 });
});

it('counts a listener: 2 reads for the 2 documents it sees, 1 more when one changes', async () => {
  await direct.doc('listen/a').set({ k: 'in' });
  await direct.doc('listen/b').set({ k: 'in' });
  await direct.doc('listen/c').set({ k: 'out' });
  counter.reset();
  const sizes: number[] = [];
  const seen: Array<() => void> = [];
  const unsubscribe = proxied
    .collection('listen')
    .where('k', '==', 'in')
    .onSnapshot((s) => {
      sizes.push(s.size);
      seen.shift()?.();
    });
  await new Promise<void>((resolve) => seen.push(resolve));
  expect(counter.counts()).toEqual(expected({ calls: { Listen: 1 }, reads: 2 }));

  // the stream goes on both ways: a change the emulator pushes arrives through the proxy
  const changed = new Promise<void>((resolve) => seen.push(resolve));
  await direct.doc('listen/a').update({ extra: 1 });
  await changed;
  unsubscribe();
  expect(sizes).toEqual([2, 2]);
  expect(counter.counts()).toEqual(expected({ calls: { Listen: 1 }, reads: 3 }));
});

it('passes a failed precondition back to the client (ALREADY_EXISTS, in the trailers) and bills no write', async () => {
  await direct.doc('claims/one').create({ by: 'a' });
  let error: unknown;
  const counts = await counted(async () => {
    error = await proxied
      .doc('claims/one')
      .create({ by: 'b' })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
  });
  expect(error).toMatchObject({ code: 6 });
  expect(String((error as Error).message)).toMatch(/already exists/i);
  expect(counts).toEqual(expected({ calls: { Commit: 1 } }));
  expect((await direct.doc('claims/one').get()).data()).toEqual({ by: 'a' });
});

it('forwards the emulator’s HTTP/1.1 REST API on the same port, counted as calls', async () => {
  await direct.doc('rest/r').set({ s: 'hello' });
  const path = `/v1/projects/${projectId}/databases/(default)/documents/rest/r`;
  const get = (host: string) =>
    new Promise<{ status: number; body: unknown }>((resolve, reject) => {
      const [hostname, port] = host.split(':');
      http
        .get({ hostname, port: Number(port), path, headers: { Authorization: 'Bearer owner' } }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
        })
        .on('error', reject);
    });
  counter.reset();
  const [viaProxy, viaEmulator] = [await get(counter.host), await get(process.env.FIRESTORE_EMULATOR_HOST!)];
  expect(viaProxy).toEqual(viaEmulator);
  expect(viaProxy.body).toMatchObject({ fields: { s: { stringValue: 'hello' } } });
  expect(counter.counts()).toEqual(expected({ calls: { 'rest GET document': 1 } }));
});

it('carries messages bigger than a DATA frame, and many calls at once, unchanged', async () => {
  const big = { text: 'x'.repeat(900_000) + 'end', n: 7 };
  const write = await counted(() => proxied.doc('big/one').set(big));
  expect(write).toEqual(expected({ calls: { Commit: 1 }, writes: 1 }));
  let back: unknown;
  const read = await counted(async () => {
    back = (await proxied.doc('big/one').get()).data();
  });
  expect(back).toEqual(big);
  expect(read).toEqual(expected({ calls: { BatchGetDocuments: 1 }, reads: 1 }));

  const many = await counted(() => Promise.all(Array.from({ length: 40 }, (_, i) => proxied.doc(`many/m${i}`).set({ i }))));
  expect(many).toEqual(expected({ calls: { Commit: 40 }, writes: 40 }));
  const all = (await direct.collection('many').get()).docs.map((d) => d.get('i') as number).sort((x, y) => x - y);
  expect(all).toEqual(Array.from({ length: 40 }, (_, i) => i));
});

it('answers UNAVAILABLE while the emulator is unreachable, and reconnects once it is back', async () => {
  const port = await freePort();
  const down = await startFirestoreOpCounter({ target: `127.0.0.1:${port}` });
  const call = () =>
    new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
      const session = http2.connect(`http://${down.host}`);
      session.on('error', reject);
      const req = session.request({ ':method': 'POST', ':path': '/google.firestore.v1.Firestore/Commit', 'content-type': 'application/grpc', te: 'trailers' });
      let status: http2.IncomingHttpHeaders = {};
      req.on('response', (h) => (status = h));
      req.on('trailers', (t) => (status = { ...status, ...t }));
      req.on('close', () => {
        session.close();
        resolve(status);
      });
      req.resume();
      req.end(Buffer.from([0, 0, 0, 0, 0]));
    });
  try {
    expect(await call()).toMatchObject({ ':status': 200, 'grpc-status': '14' });
    // something answers on the port now: the next call gets a new session to it
    const up = http2.createServer();
    up.on('stream', (stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(Buffer.from([0, 0, 0, 0, 0]));
    });
    await new Promise<void>((resolve) => up.listen(port, '127.0.0.1', resolve));
    try {
      expect(await call()).toMatchObject({ ':status': 200, 'grpc-status': '0' });
    } finally {
      await down.close();
      await new Promise((resolve) => up.close(resolve));
    }
    expect(down.counts().calls).toEqual({ Commit: 2 });
  } finally {
    await down.close();
  }
});

it('reset() zeroes the counts', async () => {
  await proxied.doc('reset/x').set({ x: 1 });
  expect(counter.counts().calls).not.toEqual({});
  counter.reset();
  expect(counter.counts()).toEqual(emptyCounts());
});
