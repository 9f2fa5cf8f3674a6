import { DEFAULT_PREPARE_LIMITS } from '#shared/labeling/core/prepare-image';
import type { PredictionRequest } from '#shared/labeling/core/request-message';
import { labelImages, type WorkerDeps } from '#shared/labeling/label-images';
import { BatcherRegistry } from '#shared/labeling/predict-batcher';
import { resultId } from '#shared/labeling/result';
import { FakeMsClock } from '#test/support/fakes/clock';
import { unavailable } from '#test/support/fakes/faults';
import { FakeImageCodec, FakeModelEndpoints, FakeObjectReader, FakePredictor, fakeImage } from '#test/support/fakes/labeling/images';
import { FakeLabelStore } from '#test/support/fakes/labeling/label-store';
import { FakeResultPublisher } from '#test/support/fakes/labeling/result-publisher';
import { capturedLogger } from '#test/support/fakes/logs';

const BUCKET = 'images';
const ENDPOINT = 'projects/p/locations/us-central1/endpoints/digits';

/** labelImages (the predict worker's use case) on in-memory fakes of its ports and the real batcher. */
describe('labelImages', () => {
  let store: FakeLabelStore;
  let publisher: FakeResultPublisher;
  let reader: FakeObjectReader;
  let endpoints: FakeModelEndpoints;
  let predictor: FakePredictor;
  let deps: WorkerDeps;
  // the predict budget is already spent: a refused call is not retried here (retries are the batcher's tests)
  const opts = () => ({ deadline: Date.now() });

  beforeEach(() => {
    const clock = new FakeMsClock();
    store = new FakeLabelStore(() => clock.now());
    publisher = new FakeResultPublisher();
    reader = new FakeObjectReader();
    endpoints = new FakeModelEndpoints();
    endpoints.targets.set('digits', { endpoint: ENDPOINT });
    predictor = new FakePredictor();
    const { log } = capturedLogger();
    deps = {
      store,
      publisher,
      logger: log,
      publishLeaseMs: 30_000,
      rollupIntervalMs: 0,
      clock,
      reader,
      endpoints,
      batchers: new BatcherRegistry(predictor, { windowMs: 0, pack: { maxRequestBytes: 1_500_000, maxInstances: 32 }, logger: log }),
      imageCodec: new FakeImageCodec(),
      limits: DEFAULT_PREPARE_LIMITS,
      readConcurrency: 4,
    };
  });

  const request = (...names: string[]): PredictionRequest => ({ job: 'j', model: 'digits', images: names.map((name) => ({ bucket: BUCKET, name })) });
  const byName = () => new Map(store.resultsOf('j').map((r) => [r.imageUri.split('/').pop()!, r]));

  it('labels every image in shared predict calls and records each result with the model that answered', async () => {
    // Prepare
    for (const d of ['3', '7', '1']) reader.put(BUCKET, `j/${d}.jpg`, fakeImage(d));
    // Act
    await labelImages(request('j/3.jpg', 'j/7.jpg', 'j/1.jpg'), deps, opts());
    // Assess
    expect(predictor.calls).toEqual([3]);
    const results = byName();
    expect([...results.keys()].sort()).toEqual(['1.jpg', '3.jpg', '7.jpg']);
    expect(results.get('7.jpg')).toMatchObject({ status: 'OK', label: '7', confidence: 0.9, modelName: 'digits', deployedModelId: 'dm-1', modelVersionId: '1', published: true });
    expect(publisher.results).toHaveLength(3);
    expect(await store.progress('j')).toEqual({ ok: 3, error: 0 });
  });

  it('a duplicate delivery of the request predicts and publishes nothing again', async () => {
    // Prepare
    reader.put(BUCKET, 'j/3.jpg', fakeImage('3'));
    await labelImages(request('j/3.jpg'), deps, opts());
    // Act
    await labelImages(request('j/3.jpg'), deps, opts());
    // Assess
    expect(predictor.calls).toEqual([1]);
    expect(publisher.results).toHaveLength(1);
    expect(await store.progress('j')).toEqual({ ok: 1, error: 0 });
  });

  it('records what the model cannot take as ERROR results with the reason, acknowledging the request', async () => {
    // Prepare
    reader.put(BUCKET, 'j/good.jpg', fakeImage('5'));
    reader.put(BUCKET, 'j/empty.jpg', Buffer.alloc(0));
    reader.put(BUCKET, 'j/notes.txt', Buffer.from('shopping list'));
    reader.put(BUCKET, 'j/cut.png', fakeImage('2', { format: 'png', truncated: true }));
    reader.put(BUCKET, 'j/huge.jpg', fakeImage('2', { width: 20_000, height: 20_000 }));
    reader.put(BUCKET, 'j/odd.bmp', fakeImage('2', { format: 'bmp' }));
    reader.put(BUCKET, 'j/refused.jpg', fakeImage('REJECT'));
    // Act
    await labelImages(request('j/good.jpg', 'j/empty.jpg', 'j/notes.txt', 'j/cut.png', 'j/huge.jpg', 'j/odd.bmp', 'j/refused.jpg', 'j/gone.jpg'), deps, opts());
    // Assess
    const reasons = Object.fromEntries([...byName()].map(([name, r]) => [name, r.status === 'OK' ? r.label : r.reason]));
    expect(reasons).toEqual({
      'good.jpg': '5',
      'empty.jpg': 'EMPTY',
      'notes.txt': 'NOT_AN_IMAGE',
      'cut.png': 'CORRUPT_IMAGE',
      'huge.jpg': 'TOO_MANY_PIXELS',
      'odd.bmp': 'UNSUPPORTED_FORMAT',
      'refused.jpg': 'MODEL_REJECTED',
      'gone.jpg': 'NOT_FOUND',
    });
    expect(byName().get('gone.jpg')).toMatchObject({ status: 'ERROR', generation: null, error: 'gs://images/j/gone.jpg does not exist', modelName: 'digits' });
    expect(await store.progress('j')).toEqual({ ok: 1, error: 7 });
    expect(publisher.results).toHaveLength(8);
  });

  it('throws a transient predict failure after recording what is definitive; the redelivery labels the rest', async () => {
    // Prepare
    reader.put(BUCKET, 'j/4.jpg', fakeImage('4'));
    reader.put(BUCKET, 'j/empty.jpg', Buffer.alloc(0));
    predictor.faults.failNext('predict', unavailable('endpoint'));
    // Act / Assess
    await expect(labelImages(request('j/4.jpg', 'j/empty.jpg'), deps, opts())).rejects.toMatchObject({ name: 'TransientError' });
    expect([...byName().keys()]).toEqual(['empty.jpg']);
    // Act: redelivered
    await labelImages(request('j/4.jpg', 'j/empty.jpg'), deps, opts());
    // Assess
    expect(byName().get('4.jpg')).toMatchObject({ status: 'OK', label: '4' });
    expect(await store.progress('j')).toEqual({ ok: 1, error: 1 });
    expect(publisher.results).toHaveLength(2);
  });

  it('throws while the model has no endpoint yet, recording nothing for the images it could label', async () => {
    // Prepare
    endpoints.targets.clear();
    reader.put(BUCKET, 'j/4.jpg', fakeImage('4'));
    // Act / Assess
    await expect(labelImages(request('j/4.jpg'), deps, opts())).rejects.toMatchObject({ name: 'TransientError', message: expect.stringContaining('model digits has no endpoint') });
    expect(store.resultsOf('j')).toEqual([]);
    expect(predictor.calls).toEqual([]);
  });

  it('labels the generation a folder drop pinned; a pinned generation that is gone is an ERROR', async () => {
    // Prepare
    const old = reader.put(BUCKET, 'j/4.jpg', fakeImage('4'));
    const live = reader.put(BUCKET, 'j/4.jpg', fakeImage('9'));
    // Act
    await labelImages({ job: 'j', model: 'digits', images: [old, live] }, deps, opts());
    // Assess
    expect(store.result('j', resultId('j', BUCKET, 'j/4.jpg', live.generation))).toMatchObject({ status: 'OK', label: '9', generation: live.generation });
    expect(store.result('j', resultId('j', BUCKET, 'j/4.jpg', old.generation))).toMatchObject({
      status: 'ERROR',
      reason: 'NOT_FOUND',
      error: `generation ${old.generation} of gs://images/j/4.jpg does not exist`,
    });
  });
});
