import type { Firestore } from '@google-cloud/firestore';
import type { ModelEndpoints } from '../ports';

/**
 * Reads `models/{model}.endpoint` (written by the model deployment side), cached briefly so a
 * busy worker does not read it per image; a missing endpoint is re-read sooner.
 */
export function firestoreModelEndpoints(db: Firestore, opts: { ttlMs?: number; missingTtlMs?: number } = {}): ModelEndpoints {
  const ttl = opts.ttlMs ?? 30_000;
  const missingTtl = opts.missingTtlMs ?? 2_000;
  const cache = new Map<string, { endpoint: string | undefined; until: number }>();
  return {
    async endpointOf(model) {
      const hit = cache.get(model);
      if (hit && hit.until > Date.now()) return hit.endpoint;
      const snap = await db.collection('models').doc(model).get();
      const value = snap.get('endpoint') as unknown;
      const endpoint = typeof value === 'string' && value.length > 0 ? value : undefined;
      cache.set(model, { endpoint, until: Date.now() + (endpoint ? ttl : missingTtl) });
      return endpoint;
    },
  };
}
