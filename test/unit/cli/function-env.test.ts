import { functionEnv, topicEnv } from '#local/stack/function-env';
import { TOPOLOGY } from '#shared/topology';

const addr = {
  project: 'demo-x',
  region: 'us-central1',
  pubsubEmulatorHost: '127.0.0.1:1',
  firestoreEmulatorHost: '127.0.0.1:2',
  storageUrl: 'http://127.0.0.1:3',
  vertexEndpoint: '127.0.0.1:4',
  buckets: { models: 'm', images: 'i' },
};

describe('the environment the local stack gives the functions', () => {
  test('fills every variable TOPOLOGY says a function reads', () => {
    const { env, unknown } = functionEnv(addr);
    expect(unknown).toEqual([]);
    for (const fn of TOPOLOGY.functions) for (const name of fn.env) expect(env[name]).toBeTruthy();
  });

  test('names an unknown variable instead of inventing a value', () => {
    const fn = { ...TOPOLOGY.functions[0]!, env: ['GOOGLE_CLOUD_PROJECT', 'SOMETHING_NEW'] };
    expect(functionEnv(addr, [fn]).unknown).toEqual(['SOMETHING_NEW']);
  });

  test('points the client libraries at the emulators and the buckets and topics at their local names', () => {
    const { env } = functionEnv(addr);
    expect(env).toMatchObject({
      GOOGLE_CLOUD_PROJECT: 'demo-x',
      PUBSUB_EMULATOR_HOST: '127.0.0.1:1',
      FIRESTORE_EMULATOR_HOST: '127.0.0.1:2',
      STORAGE_EMULATOR_HOST: 'http://127.0.0.1:3',
      VERTEX_API_ENDPOINT: '127.0.0.1:4',
      MODELS_BUCKET: 'm',
      IMAGES_BUCKET: 'i',
    });
    expect(topicEnv()).toMatchObject({ MODEL_EVENTS_TOPIC: 'model-events', PREDICTION_RESULTS_TOPIC: 'prediction-results', PREDICTION_REQUESTS_TOPIC: 'prediction-requests' });
  });
});
