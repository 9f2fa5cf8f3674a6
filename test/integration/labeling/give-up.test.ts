import { Firestore } from '@google-cloud/firestore';
import { uniqueProjectId, requireEmulatorEnv } from '#test/support/emulator-env';
import { createLogger } from '#shared/logging/logger';
import { eventAgeMs } from '#shared/events/event-age';
import { firestoreLabelStore } from '#shared/labeling/adapters/firestore-label-store';
import { giveUpOnEvent, type IntakeDeps } from '#shared/labeling/intake';
import { recordAndPublish } from '#shared/labeling/record-results';
import type { ResultPublisher } from '#shared/labeling/ports';
import { okResult, resultId, type LabelResult } from '#shared/labeling/result';

// An image event that keeps failing past MAX_EVENT_AGE_MINUTES is recorded, not retried for a
// day: against the real Firestore emulator, with a recording publisher.

requireEmulatorEnv();
const db = new Firestore({ projectId: uniqueProjectId('demo-labeling-giveup') });
afterAll(() => db.terminate());

function deps(sent: LabelResult[]): IntakeDeps {
  const publisher: ResultPublisher = {
    async publishResult(r) {
      sent.push(r);
    },
    async publishJobCompleted() {},
  };
  const unused = () => {
    throw new Error('not used when giving up');
  };
  return {
    store: firestoreLabelStore(db),
    publisher,
    logger: createLogger({ component: 'test', minSeverity: 'CRITICAL' }),
    publishLeaseMs: 30_000,
    rollupIntervalMs: 0,
    reader: { read: unused },
    requests: { publishRequest: unused },
    defaultModel: 'digits',
    manifestChunkSize: 32,
    manifestMaxBytes: 1024,
    eventLeaseMs: 1000,
  } as unknown as IntakeDeps;
}

describe('giving up on an image event', () => {
  it('records one ERROR result saying why, published once; a late success cannot add a second', async () => {
    // Prepare
    const sent: LabelResult[] = [];
    const obj = { bucket: 'images', name: 'job-a/sub/7.png', generation: '42' };
    // Act
    const outcome = await giveUpOnEvent(obj, deps(sent), 'gave up after 61 min of retries: 14 UNAVAILABLE');
    const late = okResult(
      { id: resultId('job-a', 'images', obj.name, '42'), job: 'job-a', imageUri: 'gs://images/job-a/sub/7.png', generation: '42' },
      { label: '7', confidence: 0.9, modelName: 'digits', model: 'm', modelVersionId: '1', deployedModelId: 'd', latencyMs: 5 },
    );
    await recordAndPublish(deps(sent), 'job-a', [late]);
    // Assess
    const docs = (await db.collection('jobs/job-a/results').get()).docs.map((d) => d.data());
    expect(outcome).toBe('recorded');
    expect(docs).toHaveLength(1);
    expect(docs[0]).toMatchObject({ status: 'ERROR', reason: 'GAVE_UP', imageUri: 'gs://images/job-a/sub/7.png', error: expect.stringContaining('61 min') });
    expect(sent.map((r) => r.status)).toEqual(['ERROR']);
  });

  it('has nowhere to record an object outside any job, and says so', async () => {
    expect(await giveUpOnEvent({ bucket: 'images', name: 'loose.png', generation: '1' }, deps([]), 'x')).toBe('no-job');
  });

  it('measures event age from the CloudEvent time', () => {
    const now = Date.parse('2026-11-27T12:00:00Z');
    expect(eventAgeMs('2026-11-27T10:59:00Z', now)).toBe(61 * 60_000);
    expect(eventAgeMs(undefined, now)).toBeUndefined();
    expect(eventAgeMs('not a time', now)).toBeUndefined();
  });
});
