import { Firestore } from '@google-cloud/firestore';
import { firestoreModelEndpoints } from '#shared/labeling/adapters/firestore-model-endpoints';
import { parseDeploySpec } from '#shared/deployment/core/deploy-spec';
import { requireEmulatorEnv, uniqueProjectId } from '#test/support/emulator-env';

// How the worker finds a model's endpoint and its cap on instances per call, against the
// Firestore emulator, from records shaped as the deployment side writes them.

requireEmulatorEnv();
const db = new Firestore({ projectId: uniqueProjectId('demo-model-endpoints') });
afterAll(() => db.terminate());

async function version(model: string, version: string, state: string, deployJson?: string): Promise<void> {
  const parsed = parseDeploySpec(deployJson);
  if (!parsed.ok) throw new Error(parsed.reason);
  await db.doc(`models/${model}/versions/${version}`).set({ model, version, state, spec: parsed.spec });
}

describe('firestoreModelEndpoints', () => {
  it('takes the smallest maxInstancesPerCall of the DEPLOYED versions (a canary pair), ignoring the others', async () => {
    await db.doc('models/canary').set({ endpoint: 'projects/p/locations/l/endpoints/1' });
    await version('canary', 'v1', 'DEPLOYED', JSON.stringify({ maxInstancesPerCall: 8 }));
    await version('canary', 'v2', 'DEPLOYED', JSON.stringify({ maxInstancesPerCall: 2, traffic: 'canary:10' }));
    await version('canary', 'v0', 'SUPERSEDED', JSON.stringify({ maxInstancesPerCall: 1 }));
    await version('canary', 'v3', 'FAILED', JSON.stringify({ maxInstancesPerCall: 1 }));
    expect(await firestoreModelEndpoints(db).endpointOf('canary')).toEqual({ endpoint: 'projects/p/locations/l/endpoints/1', maxInstancesPerCall: 2 });
  });

  it('has no cap when no deployed version sets one, and no target without an endpoint', async () => {
    await db.doc('models/plain').set({ endpoint: 'projects/p/locations/l/endpoints/2' });
    await version('plain', 'v1', 'DEPLOYED');
    const endpoints = firestoreModelEndpoints(db);
    expect(await endpoints.endpointOf('plain')).toEqual({ endpoint: 'projects/p/locations/l/endpoints/2' });
    expect(await endpoints.endpointOf('nothing-here')).toBeUndefined();
  });

  it('rejects a cap deploy.json cannot mean', () => {
    for (const bad of [0, 1001, 2.5, '4']) {
      const r = parseDeploySpec(JSON.stringify({ maxInstancesPerCall: bad }));
      expect(r.ok).toBe(false);
      expect(!r.ok && r.reason).toMatch(/maxInstancesPerCall/);
    }
  });
});
