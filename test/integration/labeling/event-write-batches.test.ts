import { Firestore } from '@google-cloud/firestore';
import { uniqueProjectId, requireEmulatorEnv } from '#test/support/emulator-env';
import { FirestoreWriteBatcher } from '#shared/adapters/firestore-write-batcher';
import { firestoreLabelStore } from '#shared/labeling/adapters/firestore-label-store';
import { EVENT_EXPIRY_FIELD, EVENT_RECORD_TTL_MS } from '#shared/labeling/adapters/event-done-marks';

// Intake's batched event writes against the real Firestore emulator: claims made together go
// out in one commit, and their done marks are one write to their group's document; duplicates in the same window still get one
// 'claimed' between them; a commit that fails is retried write by write, so each caller gets
// its own write's outcome.

requireEmulatorEnv();
const db = new Firestore({ projectId: uniqueProjectId('demo-write-batches') });
afterAll(() => db.terminate());

it('claims and finishes the events of images arriving together in one commit each; a duplicate then finds each done', async () => {
  const store = firestoreLabelStore(db, Date.now, { eventWriteWindowMs: 10 });
  const keys = Array.from({ length: 40 }, (_, i) => `images/folder/${i}.png#1`);
  const batch = jest.spyOn(db, 'batch');
  expect(await Promise.all(keys.map((k) => store.claimEvent('folder', k, 60_000)))).toEqual(keys.map(() => 'claimed'));
  expect(batch).toHaveBeenCalledTimes(1);
  await Promise.all(keys.map((k) => store.finishEvent('folder', k)));
  // one set of the claims' group document (or one commit, if the claims straddled a second)
  expect(batch.mock.calls.length).toBeLessThanOrEqual(2);
  batch.mockRestore();
  expect(await Promise.all(keys.map((k) => store.claimEvent('folder', k, 60_000)))).toEqual(keys.map(() => 'done'));
  // the done marks are one write per group of claims (an instance's claims of one second), not one per event
  const groups = await db.collection('jobs/folder/eventsDone').get();
  expect(groups.size).toBeLessThanOrEqual(2);
  const marked = groups.docs.flatMap((d) => d.get('keys') as string[]);
  const claims = await db.collection('jobs/folder/events').get();
  expect(new Set(marked)).toEqual(new Set(claims.docs.map((d) => d.id)));
  expect(claims.size).toBe(40);
  // both kinds of record carry the expiry the TTL policy deletes them by (terraform/firestore.tf)
  const before = Date.now();
  for (const d of [...claims.docs, ...groups.docs]) {
    const expiry = (d.get(EVENT_EXPIRY_FIELD) as { toMillis(): number }).toMillis();
    expect(expiry).toBeGreaterThan(before + EVENT_RECORD_TTL_MS - 60_000);
    expect(expiry).toBeLessThanOrEqual(Date.now() + EVENT_RECORD_TTL_MS);
  }
  // another instance (a store of its own) finds them done too
  const other = firestoreLabelStore(db, Date.now, { eventWriteWindowMs: 10 });
  expect(await Promise.all(keys.map((k) => other.claimEvent('folder', k, 60_000)))).toEqual(keys.map(() => 'done'));
});

it('a claim retaken after its lease ran out is finished in the group of the one that retook it; a released claim is not done', async () => {
  let now = 1_000_000;
  const a = firestoreLabelStore(db, () => now, { eventWriteWindowMs: 10 });
  const b = firestoreLabelStore(db, () => now, { eventWriteWindowMs: 10 });
  expect(await a.claimEvent('retake', 'images/retake/x.png#1', 1_000)).toBe('claimed');
  expect(await b.claimEvent('retake', 'images/retake/x.png#1', 1_000)).toBe('busy');
  now += 5_000; // a died without finishing
  expect(await b.claimEvent('retake', 'images/retake/x.png#1', 1_000)).toBe('claimed');
  await b.finishEvent('retake', 'images/retake/x.png#1');
  expect(await a.claimEvent('retake', 'images/retake/x.png#1', 1_000)).toBe('done');

  expect(await a.claimEvent('retake', 'images/retake/y.png#1', 60_000)).toBe('claimed');
  await a.releaseEvent('retake', 'images/retake/y.png#1');
  expect(await b.claimEvent('retake', 'images/retake/y.png#1', 60_000)).toBe('claimed');
});

it('a duplicate delivered in the same window as its original: exactly one of the two claims it', async () => {
  const store = firestoreLabelStore(db, Date.now, { eventWriteWindowMs: 10 });
  const keys = Array.from({ length: 10 }, (_, i) => `images/dup/${i}.png#1`);
  // every event twice, all in one window: the batch of 20 creates fails whole, then each is tried alone
  const outcomes = await Promise.all([...keys, ...keys].map((k) => store.claimEvent('dup', k, 60_000)));
  for (let i = 0; i < keys.length; i++) expect([outcomes[i], outcomes[i + keys.length]].sort()).toEqual(['busy', 'claimed']);
});

it('splits more than 500 writes over commits of at most 500; a failed commit is retried write by write', async () => {
  const batcher = new FirestoreWriteBatcher(db, 20);
  const refs = Array.from({ length: 501 }, (_, i) => db.doc(`batches/doc-${i}`));
  const batch = jest.spyOn(db, 'batch');
  await Promise.all(refs.map((r) => batcher.create(r, { n: 0 })));
  await Promise.all(refs.map((r) => batcher.update(r, { n: 1 })));
  // 500 + 1 creates (the one left over goes alone), then 500 + 1 updates
  expect(batch).toHaveBeenCalledTimes(2);
  batch.mockRestore();
  expect((await db.collection('batches').where('n', '==', 1).count().get()).data().count).toBe(501);

  // one update of a missing document and one create of an existing one share a commit with a good update
  const outcomes = await Promise.allSettled([batcher.update(refs[0]!, { n: 2 }), batcher.update(db.doc('batches/missing'), { n: 2 }), batcher.create(refs[1]!, { n: 9 })]);
  expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'rejected']);
  expect(String((outcomes[1] as PromiseRejectedResult).reason)).toMatch(/NOT_FOUND|No document to update/);
  expect(String((outcomes[2] as PromiseRejectedResult).reason)).toMatch(/ALREADY_EXISTS/);
  expect((await refs[0]!.get()).get('n')).toBe(2);
  expect((await refs[1]!.get()).get('n')).toBe(1);

  // a merge creates the document or merges into it, in a shared commit or alone
  await Promise.all([batcher.merge(refs[2]!, { m: 1 }), batcher.merge(db.doc('batches/merged'), { m: 1 })]);
  await batcher.merge(db.doc('batches/merged'), { k: 2 });
  expect((await refs[2]!.get()).data()).toEqual({ n: 1, m: 1 });
  expect((await db.doc('batches/merged').get()).data()).toEqual({ m: 1, k: 2 });
});
