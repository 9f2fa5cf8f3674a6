import { Firestore } from '@google-cloud/firestore';
import { followJob } from '#local/cli/follow-job';
import * as jobProgress from '#local/cli/job-progress';
import { uniqueProjectId, requireEmulatorEnv } from '#test/support/emulator-env';

// `dropship label --wait` follows a job by its counter shards (cheap to poll) and answers with
// the exact count of its results (aggregation queries), against the real Firestore emulator.

requireEmulatorEnv();
const db = new Firestore({ projectId: uniqueProjectId('demo-follow-job') });
afterAll(() => db.terminate());

async function seed(job: string, results: Array<'OK' | 'ERROR'>, shard: { ok: number; error: number }): Promise<void> {
  const batch = db.batch();
  results.forEach((status, i) => batch.create(db.doc(`jobs/${job}/results/r${i}`), { status, imageUri: `gs://b/${job}/${i}.png` }));
  batch.set(db.doc(`jobs/${job}/counters/3`), shard);
  await batch.commit();
}

it('resolves with the exact counts once the shards say every result is in', async () => {
  await seed('done', ['OK', 'ERROR', 'OK'], { ok: 2, error: 1 });
  await expect(followJob(db, 'done', 3, { timeoutMs: 10_000, quiet: true })).resolves.toEqual({ ok: 2, error: 1 });
});

it('does not take the shards for the results: shards ahead of the results are not done', async () => {
  await seed('ahead', ['OK', 'OK'], { ok: 3, error: 0 });
  await expect(followJob(db, 'ahead', 3, { timeoutMs: 2_500, quiet: true })).rejects.toThrow('has 2 of 3 results');
});

it('follows a job whose results arrive while it waits, counting its results once, at the end', async () => {
  await seed('arriving', ['OK'], { ok: 1, error: 0 });
  const exact = jest.spyOn(jobProgress, 'countResults');
  const followed = followJob(db, 'arriving', 2, { timeoutMs: 10_000, quiet: true });
  await new Promise((r) => setTimeout(r, 2_500));
  expect(exact).not.toHaveBeenCalled(); // two polls so far, of the shards only
  const batch = db.batch();
  batch.create(db.doc('jobs/arriving/results/r1'), { status: 'OK', imageUri: 'gs://b/arriving/1.png' });
  batch.set(db.doc('jobs/arriving/counters/3'), { ok: 2, error: 0 });
  await batch.commit();
  await expect(followed).resolves.toEqual({ ok: 2, error: 0 });
  expect(exact).toHaveBeenCalledTimes(1);
  exact.mockRestore();
});
