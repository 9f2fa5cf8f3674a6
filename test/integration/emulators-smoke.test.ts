import { Firestore } from '@google-cloud/firestore';
import { PubSub } from '@google-cloud/pubsub';
import { requireEmulatorEnv, uniqueProjectId } from '../support/emulator-env';

describe('gcloud emulators started by the test run', () => {
  const projectId = uniqueProjectId();

  it('serve the real Firestore client (create() is an atomic claim)', async () => {
    requireEmulatorEnv();
    const db = new Firestore({ projectId });
    const ref = db.doc('claims/one');
    await ref.create({ by: 'a' });
    await expect(ref.create({ by: 'b' })).rejects.toMatchObject({ code: 6 });
    expect((await ref.get()).data()).toEqual({ by: 'a' });
    await db.terminate();
  });

  it('serve the real Pub/Sub client', async () => {
    const pubsub = new PubSub({ projectId });
    const [topic] = await pubsub.createTopic('smoke');
    const [sub] = await topic.createSubscription('smoke-sub');
    const published = topic.publishMessage({ json: { hello: 'world' }, attributes: { job: 'j1' } });
    const got = await new Promise<{ body: unknown; job?: string }>((resolve) => {
      sub.once('message', (m) => {
        m.ack();
        resolve({ body: JSON.parse(m.data.toString()), job: m.attributes.job });
      });
    });
    await published;
    await sub.close();
    expect(got).toEqual({ body: { hello: 'world' }, job: 'j1' });
    await pubsub.close();
  });
});
