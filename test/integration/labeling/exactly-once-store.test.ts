import { Firestore } from '@google-cloud/firestore';
import { uniqueProjectId, requireEmulatorEnv } from '#test/support/emulator-env';
import { waitFor } from '#test/support/wait-for';
import { createLogger } from '#shared/logging/logger';
import { firestoreLabelStore } from '#shared/labeling/adapters/firestore-label-store';
import { recordAndPublish, type RecordDeps } from '#shared/labeling/record-results';
import type { JobDoc, Progress, ResultPublisher } from '#shared/labeling/ports';
import { okResult, resultAttributes, resultId, type LabelResult } from '#shared/labeling/result';
import { recordSeenMessage } from '#shared/labeling/results-ledger';

// The store's exactly-once rules against the real Firestore emulator, with deliveries racing
// each other the way duplicated pushes do. The publisher is a recording one (what matters is
// how often each result is published, not Pub/Sub).

jest.setTimeout(60_000);

requireEmulatorEnv();
const db = new Firestore({ projectId: uniqueProjectId('demo-labeling-store') });
afterAll(() => db.terminate());

function recorder(): ResultPublisher & { sent: string[]; completed: Progress[] } {
  const sent: string[] = [];
  const completed: Progress[] = [];
  return {
    sent,
    completed,
    async publishResult(r: LabelResult) {
      // Publishing takes a while, so racing deliveries overlap inside it.
      await new Promise((res) => setTimeout(res, 20));
      sent.push(r.id);
    },
    async publishJobCompleted(_job: JobDoc, progress: Progress) {
      completed.push(progress);
    },
  };
}

function deps(publisher: ResultPublisher, publishLeaseMs = 30_000): RecordDeps {
  return { store: firestoreLabelStore(db), publisher, logger: createLogger({ component: 'test', minSeverity: 'CRITICAL' }), publishLeaseMs, rollupIntervalMs: 0 };
}

function results(job: string, n: number): LabelResult[] {
  return Array.from({ length: n }, (_, i) => {
    const name = `${job}/img-${i}.jpg`;
    return okResult(
      { id: resultId(job, 'bucket', name, '1'), job, imageUri: `gs://bucket/${name}`, generation: '1' },
      { label: String(i % 10), confidence: 0.9, modelName: 'm', model: 'projects/p/models/m', modelVersionId: '1', deployedModelId: 'd', latencyMs: 5 },
    );
  });
}

async function counted(job: string): Promise<number> {
  const p = await firestoreLabelStore(db).progress(job);
  return p.ok + p.error;
}

describe('recordAndPublish under racing deliveries', () => {
  it('four deliveries of the same results at once: each result created, counted and published once, and every delivery succeeds', async () => {
    const job = 'race';
    const publisher = recorder();
    const rs = results(job, 12);
    // Overlapping subsets too: a duplicate of one message racing a neighbour that shares images.
    await Promise.all([rs, rs, rs.slice(0, 6), rs.slice(4)].map((batch) => recordAndPublish(deps(publisher), job, batch)));
    expect([...publisher.sent].sort()).toEqual(rs.map((r) => r.id).sort());
    expect(await counted(job)).toBe(12);
    const snap = await db.collection(`jobs/${job}/results`).get();
    expect(snap.docs.map((d) => d.get('published'))).toEqual(Array(12).fill(true));
  });

  it('a result written by a delivery that died before publishing is published by the next one, once', async () => {
    const job = 'crashed';
    const rs = results(job, 3);
    const store = firestoreLabelStore(db);
    // The crash: created and counted, never published, and its publisher's lease is over.
    await store.recordResults(job, rs, 0);
    const publisher = recorder();
    await Promise.all([recordAndPublish(deps(publisher), job, rs), recordAndPublish(deps(publisher), job, rs)]);
    expect([...publisher.sent].sort()).toEqual(rs.map((r) => r.id).sort());
    expect(await counted(job)).toBe(3);
  });

  it('a delivery finding a result another live delivery is publishing waits for it instead of failing', async () => {
    const job = 'busy';
    const rs = results(job, 2);
    const store = firestoreLabelStore(db);
    await store.recordResults(job, rs, 30_000); // another delivery owns publishing now
    const publisher = recorder();
    // the waiting delivery's store, counting how often it looks again at the busy results
    let looks = 0;
    const watched = {
      ...store,
      publishedResultIds: (j: string, ids: readonly string[]) => {
        looks++;
        return store.publishedResultIds(j, ids);
      },
    };
    let settled = false;
    const waiting = recordAndPublish({ ...deps(publisher), store: watched }, job, rs).finally(() => {
      settled = true;
    });
    // it found them busy and is polling: not acknowledged, not failed
    await waitFor(() => looks >= 2 || settled, 10_000, 'the delivery to poll the busy results twice');
    expect(settled).toBe(false);
    await store.markPublished(
      job,
      rs.map((r) => r.id),
    ); // ... and finishes
    await expect(waiting).resolves.toBeUndefined();
    expect(publisher.sent).toEqual([]);
  });

  it('a manifest job is announced complete exactly once when its duplicates finish together', async () => {
    const job = 'complete';
    const store = firestoreLabelStore(db);
    await store.setJobTotal(job, 5, 'm', 'gs://bucket/complete/_manifest.txt');
    const publisher = recorder();
    const rs = results(job, 5);
    await Promise.all([recordAndPublish(deps(publisher), job, rs), recordAndPublish(deps(publisher), job, rs)]);
    expect(publisher.completed).toEqual([{ ok: 5, error: 0 }]);
    expect((await db.doc(`jobs/${job}`).get()).get('state')).toBe('COMPLETED');
  });
});

describe('event claims', () => {
  it('of duplicates claiming one event at once, exactly one gets it; a finished event is done for later ones', async () => {
    const store = firestoreLabelStore(db);
    const outcomes = await Promise.all(Array.from({ length: 4 }, () => store.claimEvent('claims', 'bucket/a.jpg#1', 60_000)));
    expect(outcomes.filter((o) => o === 'claimed')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'busy')).toHaveLength(3);
    await store.finishEvent('claims', 'bucket/a.jpg#1');
    expect(await store.claimEvent('claims', 'bucket/a.jpg#1', 60_000)).toBe('done');
  });

  it('a released or expired claim is taken by exactly one of the deliveries racing for it', async () => {
    const store = firestoreLabelStore(db);
    expect(await store.claimEvent('claims', 'bucket/b.jpg#1', 60_000)).toBe('claimed');
    await store.releaseEvent('claims', 'bucket/b.jpg#1');
    const outcomes = await Promise.all(Array.from({ length: 4 }, () => store.claimEvent('claims', 'bucket/b.jpg#1', 60_000)));
    expect(outcomes.filter((o) => o === 'claimed')).toHaveLength(1);
  });
});

describe('the results ledger', () => {
  const ledger = () => ({ store: firestoreLabelStore(db), logger: createLogger({ component: 'test', minSeverity: 'CRITICAL' }) });

  it('a delivery that died after publishing, before flagging: the ledger saw the message, so the redelivery after the lease sends nothing', async () => {
    const job = 'died-after-publish';
    const rs = results(job, 3);
    const store = firestoreLabelStore(db);
    await store.recordResults(job, rs, 0); // created, lease already over, flag never set
    // ... but the messages did reach the topic, and the ledger's subscription saw them.
    const outcomes = await Promise.all(rs.map((r, i) => recordSeenMessage({ messageId: `m${i}`, attributes: resultAttributes(r), body: { type: 'result', ...r } }, ledger())));
    expect(outcomes).toEqual(['confirmed', 'confirmed', 'confirmed']);
    const publisher = recorder();
    await recordAndPublish(deps(publisher), job, rs);
    expect(publisher.sent).toEqual([]);
    expect(await counted(job)).toBe(3);
    // told apart from results their publisher flagged: the ledger leaves publishedAt alone
    const docs = (await db.collection(`jobs/${job}/results`).get()).docs;
    expect(docs.map((d) => [d.get('published'), d.get('publishedAt'), d.get('ledgerSawAt') !== undefined])).toEqual(Array(3).fill([true, undefined, true]));
  });

  it('a result or job-completed message it holds nothing for creates nothing; a message from elsewhere is ignored', async () => {
    const [r] = results('nowhere', 1);
    expect(await recordSeenMessage({ messageId: 'x', attributes: resultAttributes(r!), body: r }, ledger())).toBe('unknown-result');
    expect((await db.doc(`jobs/nowhere/results/${r!.id}`).get()).exists).toBe(false);
    expect(await recordSeenMessage({ messageId: 'y', attributes: { source: 'someone-else' }, body: { hello: 1 } }, ledger())).toBe('ignored');
    const completed = { messageId: 'z', attributes: { type: 'job-completed', job: 'nowhere' }, body: { type: 'job-completed', job: 'nowhere', ok: 1, error: 0 } };
    expect(await recordSeenMessage(completed, ledger())).toBe('unknown-result');
    expect((await db.doc('jobs/nowhere').get()).exists).toBe(false);
  });

  it('a job-completed message it saw finishes the completion its publisher claimed, so it is not announced again', async () => {
    const job = 'completed-by-ledger';
    const store = firestoreLabelStore(db);
    await store.setJobTotal(job, 2, 'm', `gs://bucket/${job}/_manifest.txt`);
    const rs = results(job, 2);
    await store.recordResults(job, rs, 30_000);
    await store.markPublished(
      job,
      rs.map((r) => r.id),
    );
    expect(await store.claimCompletion(job, { ok: 2, error: 0 }, 0)).toBe('claimed'); // the publisher then dies
    const outcome = await recordSeenMessage({ messageId: 'c', attributes: { type: 'job-completed', job }, body: { type: 'job-completed', job, model: 'm', total: 2, ok: 2, error: 0 } }, ledger());
    expect(outcome).toBe('completion-confirmed');
    expect((await db.doc(`jobs/${job}`).get()).get('state')).toBe('COMPLETED');
    const marker = await db.doc(`jobs/${job}/markers/completed`).get();
    expect([marker.get('published'), marker.get('publishedAt'), marker.get('ledgerSawAt') !== undefined]).toEqual([true, undefined, true]);
    const publisher = recorder();
    await recordAndPublish(deps(publisher), job, rs);
    expect(publisher.completed).toEqual([]);
  });
});
