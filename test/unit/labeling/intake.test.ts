import { GENERATED_BY_KEY } from '#shared/labeling/core/object-kind';
import { giveUpOnEvent, handleFinalizedImageObject, type FinalizedObject, type IntakeDeps } from '#shared/labeling/intake';
import { JobModelCache } from '#shared/labeling/job-model-cache';
import { BUSY_POLL_MS } from '#shared/labeling/record-results';
import { FakeMsClock } from '#test/support/fakes/clock';
import { unavailable } from '#test/support/fakes/faults';
import { FakeObjectReader, fakeImage } from '#test/support/fakes/labeling/images';
import { FakeLabelStore } from '#test/support/fakes/labeling/label-store';
import { FakeRequestPublisher } from '#test/support/fakes/labeling/request-publisher';
import { FakeResultPublisher } from '#test/support/fakes/labeling/result-publisher';
import { capturedLogger, type LogLine } from '#test/support/fakes/logs';

const BUCKET = 'images';
const EVENT_LEASE_MS = 60_000;

/** image-intake's use case on in-memory fakes: one request (or ERROR result) per object generation. */
describe('handleFinalizedImageObject', () => {
  let clock: FakeMsClock;
  let store: FakeLabelStore;
  let reader: FakeObjectReader;
  let requests: FakeRequestPublisher;
  let publisher: FakeResultPublisher;
  let logs: LogLine[];
  let deps: IntakeDeps;

  beforeEach(() => {
    clock = new FakeMsClock();
    store = new FakeLabelStore(() => clock.now());
    reader = new FakeObjectReader();
    requests = new FakeRequestPublisher();
    publisher = new FakeResultPublisher();
    const captured = capturedLogger();
    logs = captured.lines;
    deps = {
      store,
      publisher,
      logger: captured.log,
      publishLeaseMs: 30_000,
      rollupIntervalMs: 0,
      clock,
      reader,
      requests,
      defaultModel: 'digits',
      manifestChunkSize: 2,
      manifestMaxBytes: 1_000,
      eventLeaseMs: EVENT_LEASE_MS,
    };
  });

  const drop = (name: string, bytes: Buffer | string): FinalizedObject => ({ ...reader.put(BUCKET, name, Buffer.from(bytes)) });
  const sentImages = () => requests.sent.map((s) => (s.body as { images: Array<{ name: string }> }).images.map((i) => i.name));

  it('sends one prediction request for an image, pinned to its generation, and creates the job', async () => {
    // Prepare
    const obj = drop('cats/a/1.jpg', fakeImage('1'));
    // Act
    const outcome = await handleFinalizedImageObject(obj, deps);
    // Assess
    expect(outcome).toBe('handled');
    expect(requests.sent).toEqual([
      { body: { job: 'cats', model: 'digits', images: [{ bucket: BUCKET, name: 'cats/a/1.jpg', generation: obj.generation }] }, attributes: { job: 'cats', model: 'digits', images: '1' } },
    ]);
    expect(await store.getJob('cats')).toEqual({ job: 'cats', model: 'digits', state: 'RUNNING' });
  });

  it('a redelivered event sends nothing again; a new generation of the object is a new event', async () => {
    // Prepare
    const obj = drop('cats/1.jpg', fakeImage('1'));
    await handleFinalizedImageObject(obj, deps);
    // Act
    const again = await handleFinalizedImageObject(obj, deps);
    const overwritten = await handleFinalizedImageObject(drop('cats/1.jpg', fakeImage('2')), deps);
    // Assess
    expect([again, overwritten]).toEqual(['duplicate', 'handled']);
    expect(requests.sent).toHaveLength(2);
  });

  it('a duplicate delivered while another delivery holds the event waits for it, then acknowledges', async () => {
    // Prepare: another delivery claimed the event and finishes it after two polls of this one
    const obj = drop('cats/1.jpg', fakeImage('1'));
    const key = `${BUCKET}/cats/1.jpg#${obj.generation}`;
    expect(await store.claimEvent('cats', key, EVENT_LEASE_MS)).toBe('claimed');
    let polls = 0;
    clock.onSleep = async () => {
      if (++polls === 2) await store.finishEvent('cats', key);
    };
    // Act
    const outcome = await handleFinalizedImageObject(obj, deps);
    // Assess
    expect(outcome).toBe('duplicate');
    expect(clock.sleeps).toEqual([BUSY_POLL_MS, BUSY_POLL_MS]);
    expect(requests.sent).toEqual([]);
  });

  it('throws a failed publish after giving the event back, so the redelivery handles it at once', async () => {
    // Prepare
    const obj = drop('cats/1.jpg', fakeImage('1'));
    requests.faults.failNext('publishRequest', unavailable('pubsub'));
    // Act / Assess
    await expect(handleFinalizedImageObject(obj, deps)).rejects.toMatchObject({ code: 14 });
    expect(await handleFinalizedImageObject(obj, deps)).toBe('handled');
    expect(clock.sleeps).toEqual([]);
    expect(requests.sent).toHaveLength(1);
  });

  it('sends a manifest as chunked requests after setting the job total; bad lines become ERROR results', async () => {
    // Prepare
    const manifest = ['{"model": "digits-v2"}', 'gs://images/cats/1.jpg', 'not a uri', 'gs://images/cats/2.jpg', 'gs://images/cats/3.jpg', ''].join('\n');
    const obj = drop('cats/_manifest.txt', manifest);
    // Act
    expect(await handleFinalizedImageObject(obj, deps)).toBe('handled');
    // Assess
    expect(await store.getJob('cats')).toEqual({ job: 'cats', model: 'digits-v2', state: 'RUNNING', total: 4 });
    expect(sentImages()).toEqual([['cats/1.jpg', 'cats/2.jpg'], ['cats/3.jpg']]);
    expect(requests.sent.every((s) => (s.body as { model: string }).model === 'digits-v2')).toBe(true);
    expect(store.resultsOf('cats')).toEqual([expect.objectContaining({ status: 'ERROR', reason: 'BAD_MANIFEST_LINE', imageUri: 'gs://images/cats/_manifest.txt#line=3', modelName: 'digits-v2' })]);
    expect(publisher.results).toHaveLength(1);
  });

  it('records a manifest over the size limit and an invalid _job.json as ERROR results, acknowledging both', async () => {
    // Prepare
    const big = drop('big/_manifest.txt', `gs://images/big/1.jpg\n`.repeat(100));
    const spec = drop('cats/_job.json', '{"model": "Not A Model"}');
    // Act
    const outcomes = [await handleFinalizedImageObject(big, deps), await handleFinalizedImageObject(spec, deps)];
    // Assess
    expect(outcomes).toEqual(['handled', 'handled']);
    expect(store.resultsOf('big')).toEqual([expect.objectContaining({ status: 'ERROR', reason: 'MANIFEST_TOO_LARGE', error: 'the manifest has 2200 bytes, more than the 1000-byte limit' })]);
    expect(await store.getJob('big')).toMatchObject({ total: 1 });
    expect(store.resultsOf('cats')).toEqual([expect.objectContaining({ status: 'ERROR', reason: 'INVALID_JOB_SPEC', imageUri: 'gs://images/cats/_job.json' })]);
    expect(requests.sent).toEqual([]);
  });

  it('labels a job with the model its _job.json names', async () => {
    // Prepare
    await handleFinalizedImageObject(drop('cats/_job.json', '{"model": "digits-v2"}'), deps);
    // Act
    await handleFinalizedImageObject(drop('cats/1.jpg', fakeImage('1')), deps);
    // Assess
    expect(requests.sent.map((s) => (s.body as { model: string }).model)).toEqual(['digits-v2']);
  });

  it("with a job model cache: one read of the job for a folder's images, a _job.json replaces the entry, and the entry expires", async () => {
    // Prepare
    deps.jobModels = new JobModelCache(10_000);
    const getJob = jest.spyOn(store, 'getJob');
    // Act
    for (const n of ['1', '2', '3']) await handleFinalizedImageObject(drop(`cats/${n}.jpg`, fakeImage(n)), deps);
    const readsForThree = getJob.mock.calls.length;
    await handleFinalizedImageObject(drop('cats/_job.json', '{"model": "digits-v2"}'), deps);
    await handleFinalizedImageObject(drop('cats/4.jpg', fakeImage('4')), deps);
    const readsAfterSpec = getJob.mock.calls.length;
    clock.advance(10_001);
    await handleFinalizedImageObject(drop('cats/5.jpg', fakeImage('5')), deps);
    // Assess
    expect(readsForThree).toBe(2); // the first image: the job is not there yet, and modelOf looks again
    expect(readsAfterSpec).toBe(2);
    expect(getJob.mock.calls.length).toBe(3);
    expect(requests.sent.map((s) => (s.body as { model: string }).model)).toEqual(['digits', 'digits', 'digits', 'digits-v2', 'digits-v2']);
  });

  it('ignores what the pipeline wrote and batch files; an object outside a job folder is logged at ERROR', async () => {
    // Act
    const outcomes = [
      await handleFinalizedImageObject({ ...drop('cats/out.jpg', fakeImage('1')), metadata: { [GENERATED_BY_KEY]: 'batch' } }, deps),
      await handleFinalizedImageObject(drop('_batch/cats/1/input.jsonl', '{}'), deps),
      await handleFinalizedImageObject(drop('loose.jpg', fakeImage('1')), deps),
    ];
    // Assess
    expect(outcomes).toEqual(['ignored', 'ignored', 'ignored']);
    expect(logs.filter((l) => l.severity === 'ERROR')).toEqual([expect.objectContaining({ message: 'object not labeled', reason: expect.stringContaining('job folder') })]);
    expect(requests.sent).toEqual([]);
    expect(store.events.size).toBe(0);
  });

  it('giving up on an event records one GAVE_UP result with the id a success would have had', async () => {
    // Prepare
    const obj = drop('cats/1.jpg', fakeImage('1'));
    // Act
    expect(await giveUpOnEvent(obj, deps, 'kept failing for 24 h')).toBe('recorded');
    expect(await giveUpOnEvent(obj, deps, 'kept failing for 24 h')).toBe('recorded');
    // Assess
    expect(store.resultsOf('cats')).toEqual([expect.objectContaining({ status: 'ERROR', reason: 'GAVE_UP', generation: obj.generation })]);
    expect(publisher.results).toHaveLength(1);
  });
});
