import { LOG_EVENTS } from '#shared/logging/log-events';
import { BUSY_POLL_MS, recordAndPublish, type RecordDeps } from '#shared/labeling/record-results';
import { errorResult, okResult, resultId, type LabelResult } from '#shared/labeling/result';
import { FakeMsClock } from '#test/support/fakes/clock';
import { unavailable } from '#test/support/fakes/faults';
import { FakeLabelStore } from '#test/support/fakes/labeling/label-store';
import { FakeResultPublisher } from '#test/support/fakes/labeling/result-publisher';
import { capturedLogger, type LogLine } from '#test/support/fakes/logs';

const LEASE_MS = 30_000;

function results(job: string, n: number, errorsFrom = n): LabelResult[] {
  return Array.from({ length: n }, (_, i) => {
    const name = `${job}/img-${i}.jpg`;
    const base = { id: resultId(job, 'images', name, '1'), job, imageUri: `gs://images/${name}`, generation: '1' };
    return i >= errorsFrom
      ? errorResult(base, 'not an image', 'UNSUPPORTED_FORMAT', 'digits')
      : okResult(base, { label: String(i % 10), confidence: 0.9, modelName: 'digits', model: 'projects/p/models/m', modelVersionId: '1', deployedModelId: 'd1', latencyMs: 5 });
  });
}

/** recordAndPublish on in-memory fakes: each result stored, counted and published exactly once. */
describe('recordAndPublish', () => {
  let clock: FakeMsClock;
  let store: FakeLabelStore;
  let publisher: FakeResultPublisher;
  let logs: LogLine[];
  let deps: RecordDeps;

  beforeEach(() => {
    clock = new FakeMsClock();
    store = new FakeLabelStore(() => clock.now());
    publisher = new FakeResultPublisher();
    const captured = capturedLogger();
    logs = captured.lines;
    deps = { store, publisher, logger: captured.log, publishLeaseMs: LEASE_MS, rollupIntervalMs: 0, clock };
  });

  it('stores, counts and publishes each result, logging the line the metric counts', async () => {
    // Prepare
    await store.ensureJob('j', 'digits');
    const rs = results('j', 3, 2);
    // Act
    await recordAndPublish(deps, 'j', rs);
    // Assess
    expect(publisher.results.map((r) => r.id)).toEqual(rs.map((r) => r.id));
    expect(store.resultsOf('j').map((r) => r.published)).toEqual([true, true, true]);
    expect(await store.progress('j')).toEqual({ ok: 2, error: 1 });
    expect(store.jobs.get('j')!.counts).toEqual({ ok: 2, error: 1 });
    expect(logs.filter((l) => l.event === LOG_EVENTS.resultRecorded).map((l) => [l.severity, l.status])).toEqual([
      ['INFO', 'OK'],
      ['INFO', 'OK'],
      ['ERROR', 'ERROR'],
    ]);
  });

  it('a duplicate delivery of the same results publishes and counts nothing again', async () => {
    // Prepare
    await store.ensureJob('j', 'digits');
    const rs = results('j', 4);
    await recordAndPublish(deps, 'j', rs);
    // Act
    await recordAndPublish(deps, 'j', rs);
    await recordAndPublish(deps, 'j', rs.slice(1, 3));
    // Assess
    expect(publisher.results).toHaveLength(4);
    expect(await store.progress('j')).toEqual({ ok: 4, error: 0 });
    expect(logs.filter((l) => l.event === LOG_EVENTS.resultRecorded)).toHaveLength(4);
  });

  it('a result whose publisher died is published by the next delivery, once, as it was stored', async () => {
    // Prepare: created and counted by a delivery that crashed before publishing
    const rs = results('j', 2);
    await store.recordResults('j', rs, LEASE_MS);
    clock.advance(LEASE_MS + 1);
    // Act: the redelivery carries a different label for the same image (a re-run), and a duplicate
    const relabeled = rs.map((r) => ({ ...r, label: 'other' }));
    await Promise.all([recordAndPublish(deps, 'j', relabeled), recordAndPublish(deps, 'j', relabeled)]);
    // Assess
    expect(publisher.results.map((r) => [r.id, r.label])).toEqual(rs.map((r) => [r.id, r.label]));
    expect(await store.progress('j')).toEqual({ ok: 2, error: 0 });
  });

  it('waits for a live duplicate that is publishing, and does not finish before it has', async () => {
    // Prepare: another delivery created the results and holds their publish lease
    const rs = results('j', 2);
    await store.recordResults('j', rs, LEASE_MS);
    let polls = 0;
    clock.onSleep = async () => {
      // ... and finishes publishing after three polls of this delivery
      if (++polls === 3)
        await store.markPublished(
          'j',
          rs.map((r) => r.id),
        );
    };
    // Act
    await recordAndPublish(deps, 'j', rs);
    // Assess: it resolved only after the other delivery flagged them, having published nothing
    expect(polls).toBe(3);
    expect(clock.sleeps).toEqual([BUSY_POLL_MS, BUSY_POLL_MS, BUSY_POLL_MS]);
    expect(publisher.results).toEqual([]);
  });

  it('takes over from a live duplicate whose lease runs out while it waits', async () => {
    // Prepare
    const rs = results('j', 1);
    await store.recordResults('j', rs, LEASE_MS);
    // Act
    await recordAndPublish(deps, 'j', rs);
    // Assess: published by this delivery once the other one's lease was over
    expect(publisher.results.map((r) => r.id)).toEqual([rs[0]!.id]);
    expect(clock.sleeps.length).toBeGreaterThanOrEqual(LEASE_MS / BUSY_POLL_MS);
    expect(store.result('j', rs[0]!.id)!.published).toBe(true);
  });

  it('throws a failed publish (transient) after giving the lease back, so the redelivery publishes at once', async () => {
    // Prepare
    const rs = results('j', 2);
    publisher.faults.failNext('publishResult', unavailable('pubsub'));
    // Act / Assess
    await expect(recordAndPublish(deps, 'j', rs)).rejects.toMatchObject({ name: 'TransientError', message: expect.stringContaining('publishing 1 result(s)') });
    expect(
      store
        .resultsOf('j')
        .map((r) => r.published)
        .sort(),
    ).toEqual([false, true]);
    // Act: redelivered at once: no wait for a lease
    await recordAndPublish(deps, 'j', rs);
    // Assess
    expect(publisher.results.map((r) => r.id).sort()).toEqual(rs.map((r) => r.id).sort());
    expect(clock.sleeps).toEqual([]);
    expect(await store.progress('j')).toEqual({ ok: 2, error: 0 });
  });

  it('throws a store failure as it is, for the platform to redeliver', async () => {
    store.faults.failNext('recordResults', unavailable('firestore'));
    await expect(recordAndPublish(deps, 'j', results('j', 1))).rejects.toMatchObject({ code: 14 });
    expect(publisher.results).toEqual([]);
  });

  it('announces a manifest job complete exactly once, when its last result is in', async () => {
    // Prepare
    await store.setJobTotal('m', 3, 'digits', 'gs://images/m/_manifest.txt');
    const rs = results('m', 3, 2);
    // Act
    await recordAndPublish(deps, 'm', rs.slice(0, 2));
    const early = publisher.completions.length;
    await Promise.all([recordAndPublish(deps, 'm', rs), recordAndPublish(deps, 'm', rs.slice(2))]);
    await recordAndPublish(deps, 'm', rs);
    // Assess
    expect(early).toBe(0);
    expect(publisher.completions).toEqual([{ job: { job: 'm', model: 'digits', state: 'RUNNING', total: 3 }, progress: { ok: 2, error: 1 } }]);
    expect(store.jobs.get('m')).toMatchObject({ state: 'COMPLETED', counts: { ok: 2, error: 1 } });
  });

  it('rolls counts up at most once per interval per instance', async () => {
    // Prepare
    await store.ensureJob('j', 'digits');
    const rs = results('j', 3);
    const instance = { ...deps, rollupIntervalMs: 10_000, lastRollup: new Map<string, number>() };
    // Act
    await recordAndPublish(instance, 'j', rs.slice(0, 1));
    await recordAndPublish(instance, 'j', rs.slice(1, 2));
    const within = { ...store.jobs.get('j')!.counts };
    clock.advance(10_000);
    await recordAndPublish(instance, 'j', rs.slice(2));
    // Assess
    expect(within).toEqual({ ok: 1, error: 0 });
    expect(store.jobs.get('j')!.counts).toEqual({ ok: 3, error: 0 });
  });
});
