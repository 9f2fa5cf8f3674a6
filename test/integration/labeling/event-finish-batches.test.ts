import { Firestore } from '@google-cloud/firestore';
import { uniqueProjectId, requireEmulatorEnv } from '#test/support/emulator-env';
import { FirestoreUpdateBatcher } from '#shared/adapters/firestore-update-batcher';
import { firestoreLabelStore } from '#shared/labeling/adapters/firestore-label-store';

// Intake's batched event finishes against the real Firestore emulator: claims finished
// together land together, a finished claim reads as done to a duplicate, and one missing
// document fails the callers whose updates shared its commit (and only those).

requireEmulatorEnv();
const db = new Firestore({ projectId: uniqueProjectId('demo-finish-batches') });
afterAll(() => db.terminate());

it('finishes the claims of images handled together in one batch; a duplicate then finds each done', async () => {
  const store = firestoreLabelStore(db, Date.now, { eventFinishWindowMs: 20 });
  const keys = Array.from({ length: 40 }, (_, i) => `images/folder/${i}.png#1`);
  expect(await Promise.all(keys.map((k) => store.claimEvent('folder', k, 60_000)))).toEqual(keys.map(() => 'claimed'));
  const commit = jest.spyOn(db, 'batch');
  await Promise.all(keys.map((k) => store.finishEvent('folder', k)));
  expect(commit).toHaveBeenCalledTimes(1);
  expect(await Promise.all(keys.map((k) => store.claimEvent('folder', k, 60_000)))).toEqual(keys.map(() => 'done'));
  const events = await db.collection('jobs/folder/events').where('done', '==', true).count().get();
  expect(events.data().count).toBe(40);
  commit.mockRestore();
});

it('splits more than 500 updates over commits of at most 500, and a missing document fails only its own commit', async () => {
  const batcher = new FirestoreUpdateBatcher(db, 20);
  const refs = Array.from({ length: 501 }, (_, i) => db.doc(`batches/doc-${i}`));
  await Promise.all(refs.map((r) => r.set({ n: 0 })));
  const batch = jest.spyOn(db, 'batch');
  await Promise.all(refs.map((r) => batcher.update(r, { n: 1 })));
  expect(batch).toHaveBeenCalledTimes(2);
  expect((await db.collection('batches').where('n', '==', 1).count().get()).data().count).toBe(501);
  batch.mockRestore();

  // one missing document in a later window: its commit fails whole, with NOT_FOUND, for both callers
  const later = [batcher.update(refs[0]!, { n: 2 }), batcher.update(db.doc('batches/missing'), { n: 2 })];
  const outcomes = await Promise.allSettled(later);
  expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
  expect(String((outcomes[1] as PromiseRejectedResult).reason)).toMatch(/NOT_FOUND|No document to update/);
  expect((await refs[0]!.get()).get('n')).toBe(1);
  // and the next window is a fresh commit
  await batcher.update(refs[0]!, { n: 3 });
  expect((await refs[0]!.get()).get('n')).toBe(3);
});
