import { FieldValue, type Firestore } from '@google-cloud/firestore';
import type { BatchChunk, BatchChunkStore } from '../ports';

/**
 * batchChunks/{job}~{chunk}: one document per BatchPredictionJob chunk, in a top-level
 * collection so "every open chunk" is a plain single-field query (a collection-group query
 * would need an index override in terraform). A chunk's image list
 * is kept on it (about 150 bytes an image, so chunks up to a few thousand images fit the
 * 1 MiB document limit; BATCH_CHUNK_SIZE is checked against it).
 */
export function firestoreBatchChunks(db: Firestore): BatchChunkStore {
  const ref = (job: string, chunk: number) => db.collection('batchChunks').doc(`${job}~${String(chunk).padStart(5, '0')}`);
  return {
    async get(job, chunk) {
      const snap = await ref(job, chunk).get();
      return snap.exists ? chunkOf(snap.data()!) : undefined;
    },
    async put(c) {
      // merged, so the lease (kept beside the chunk's fields, never on a BatchChunk) stays
      await ref(c.job, c.chunk).set(JSON.parse(JSON.stringify(c)) as BatchChunk, { merge: true });
    },
    async open() {
      const snap = await db.collection('batchChunks').where('state', 'in', ['PREPARED', 'SUBMITTED']).get();
      return snap.docs.map((d) => chunkOf(d.data())).sort((a, b) => a.job.localeCompare(b.job) || a.chunk - b.chunk);
    },
    claim(job, chunk, owner, nowMs, leaseMs) {
      return db.runTransaction(async (tx) => {
        const snap = await tx.get(ref(job, chunk));
        if (!snap.exists) return undefined;
        const data = snap.data()!;
        const lease = data.lease as Lease | undefined;
        if (data.state === 'IMPORTED' || (lease && lease.owner !== owner && lease.untilMs > nowMs)) return undefined;
        tx.update(ref(job, chunk), { lease: { owner, untilMs: nowMs + leaseMs } satisfies Lease });
        return chunkOf(data);
      });
    },
    async release(job, chunk, owner) {
      await db.runTransaction(async (tx) => {
        const snap = await tx.get(ref(job, chunk));
        if ((snap.get('lease') as Lease | undefined)?.owner === owner) tx.update(ref(job, chunk), { lease: FieldValue.delete() });
      });
    },
  };
}

/** batchChunks/{id}.lease: which follower tick works the chunk, and until when (ms, by the follower's clock) */
interface Lease {
  owner: string;
  untilMs: number;
}

function chunkOf(data: Record<string, unknown>): BatchChunk {
  const { lease: _lease, ...chunk } = data;
  return chunk as unknown as BatchChunk;
}

/** jobs/{job}.route: how the job runs and why (merged, so the label store's fields stay). */
export function firestoreJobRoute(db: Firestore) {
  return async (job: string, route: Record<string, unknown>): Promise<void> => {
    await db
      .collection('jobs')
      .doc(job)
      .set({ route: JSON.parse(JSON.stringify(route)) as Record<string, unknown> }, { merge: true });
  };
}

/** models/{model}.vertexModel at the version of models/{model}/versions that is DEPLOYED (else the model's default version). */
export function firestoreBatchModels(db: Firestore) {
  return {
    async vertexModelOf(model: string): Promise<string | undefined> {
      const doc = db.collection('models').doc(model);
      const vertexModel = (await doc.get()).get('vertexModel') as unknown;
      if (typeof vertexModel !== 'string' || !vertexModel) return undefined;
      const deployed = await doc.collection('versions').where('state', '==', 'DEPLOYED').get();
      const version = deployed.docs.map((d) => d.get('vertexModelVersionId') as unknown).find((v): v is string => typeof v === 'string' && v.length > 0);
      return version ? `${vertexModel}@${version}` : vertexModel;
    },
  };
}
