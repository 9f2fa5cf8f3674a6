import type { Firestore } from '@google-cloud/firestore';
import type { ModelEndpoints, ModelTarget } from '../ports';

/**
 * Reads `models/{model}.endpoint` (written by the model deployment side) and the
 * `maxInstancesPerCall` of its DEPLOYED versions' deploy.json (the smallest wins: during a
 * canary both versions get calls), cached briefly so a busy worker does not read them per
 * image; a missing endpoint is re-read sooner.
 */
export function firestoreModelEndpoints(db: Firestore, opts: { ttlMs?: number; missingTtlMs?: number } = {}): ModelEndpoints {
  const ttl = opts.ttlMs ?? 30_000;
  const missingTtl = opts.missingTtlMs ?? 2_000;
  const cache = new Map<string, { target: ModelTarget | undefined; until: number }>();
  return {
    async endpointOf(model) {
      const hit = cache.get(model);
      if (hit && hit.until > Date.now()) return hit.target;
      const doc = db.collection('models').doc(model);
      const snap = await doc.get();
      const value = snap.get('endpoint') as unknown;
      let target: ModelTarget | undefined;
      if (typeof value === 'string' && value.length > 0) {
        const deployed = await doc.collection('versions').where('state', '==', 'DEPLOYED').select('spec').get();
        const caps = deployed.docs.map((d) => d.get('spec.maxInstancesPerCall') as unknown).filter((n): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 1);
        target = { endpoint: value, ...(caps.length > 0 ? { maxInstancesPerCall: Math.min(...caps) } : {}) };
      }
      cache.set(model, { target, until: Date.now() + (target ? ttl : missingTtl) });
      return target;
    },
  };
}
