import { createHash } from 'node:crypto';
import { FieldValue, type DocumentData, type DocumentReference, type Firestore } from '@google-cloud/firestore';
import type { ClaimOutcome, JobDoc, LabelStore, Progress } from '../ports';
import type { LabelResult } from '../result';

/** Counter shards per job: each result transaction increments one, so no document is hot. */
export const COUNTER_SHARDS = 16;

const ABORTED = 10;
const ALREADY_EXISTS = 6;

/**
 * Layout under jobs/{job}:
 *   (doc)          job, model, state RUNNING|COMPLETED, total (manifest jobs), counts (rollup)
 *   results/{id}   one per image (LabelResult) + published, publishLeaseUntil
 *   counters/{n}   ok, error: the source of truth for progress
 *   events/{hash}  intake idempotency claims (bucket/name#generation)
 *   markers/completed  the job-completed message's claim
 */
export function firestoreLabelStore(db: Firestore, now: () => number = Date.now): LabelStore {
  const jobRef = (job: string) => db.collection('jobs').doc(job);
  const results = (job: string) => jobRef(job).collection('results');
  const counters = (job: string) => jobRef(job).collection('counters');
  const eventRef = (job: string, key: string) => jobRef(job).collection('events').doc(createHash('sha256').update(key).digest('hex').slice(0, 40));
  const completionRef = (job: string) => jobRef(job).collection('markers').doc('completed');

  async function leaseClaim(ref: DocumentReference, leaseMs: number, fresh: Record<string, unknown>, doneField: string): Promise<ClaimOutcome> {
    return db.runTransaction(async (tx) => {
      const snap = await tx.get(ref);
      const t = now();
      if (!snap.exists) {
        tx.create(ref, { ...fresh, [doneField]: false, leaseUntil: t + leaseMs, createdAt: FieldValue.serverTimestamp() });
        return 'claimed';
      }
      const d = snap.data()!;
      if (d[doneField] === true) return 'done';
      if (typeof d.leaseUntil === 'number' && d.leaseUntil > t) return 'busy';
      tx.update(ref, { leaseUntil: t + leaseMs, retakenAt: FieldValue.serverTimestamp() });
      return 'claimed';
    });
  }

  return {
    claimEvent: (job, key, leaseMs) => leaseClaim(eventRef(job, key), leaseMs, { key }, 'done'),
    async releaseEvent(job, key) {
      await eventRef(job, key).update({ leaseUntil: 0 });
    },
    async finishEvent(job, key) {
      await eventRef(job, key).update({ done: true, doneAt: FieldValue.serverTimestamp() });
    },

    async getJob(job) {
      const snap = await jobRef(job).get();
      return snap.exists ? toJobDoc(snap.data()!) : undefined;
    },
    async ensureJob(job, model) {
      // Every image of a folder drop passes here: a plain read and an atomic create keep this
      // off the job document's write path once the job exists.
      const snap = await jobRef(job).get();
      if (snap.exists) return toJobDoc(snap.data()!);
      const doc: JobDoc = { job, model, state: 'RUNNING' };
      try {
        await jobRef(job).create({ ...doc, counts: { ok: 0, error: 0 }, createdAt: FieldValue.serverTimestamp(), updatedAt: FieldValue.serverTimestamp() });
        return doc;
      } catch (err) {
        if ((err as { code?: unknown }).code !== ALREADY_EXISTS) throw err;
        return toJobDoc((await jobRef(job).get()).data()!);
      }
    },
    async setJobModel(job, model) {
      await jobRef(job).set({ job, model, updatedAt: FieldValue.serverTimestamp() }, { merge: true });
    },
    async setJobTotal(job, total, model, manifestUri) {
      await jobRef(job).set({ job, model, total, manifestUri, state: 'RUNNING', updatedAt: FieldValue.serverTimestamp() }, { merge: true });
    },

    async recordResults(job, input, leaseMs) {
      const unique = [...new Map(input.map((r) => [r.id, r])).values()];
      const refs = unique.map((r) => results(job).doc(r.id));
      return db.runTransaction(async (tx) => {
        const snaps = await tx.getAll(...refs);
        const t = now();
        const toPublish: LabelResult[] = [];
        let ok = 0;
        let error = 0;
        let busy = 0;
        snaps.forEach((snap, i) => {
          const r = unique[i]!;
          if (!snap.exists) {
            tx.create(refs[i]!, { ...r, published: false, publishLeaseUntil: t + leaseMs, createdAt: FieldValue.serverTimestamp() });
            toPublish.push(r);
            if (r.status === 'OK') ok++;
            else error++;
            return;
          }
          const d = snap.data()!;
          if (d.published === true) return;
          if (typeof d.publishLeaseUntil === 'number' && d.publishLeaseUntil > t) {
            busy++;
            return;
          }
          tx.update(refs[i]!, { publishLeaseUntil: t + leaseMs });
          toPublish.push(toResult(d));
        });
        if (ok + error > 0) {
          const shard = counters(job).doc(String(Math.floor(Math.random() * COUNTER_SHARDS)));
          tx.set(shard, { ok: FieldValue.increment(ok), error: FieldValue.increment(error) }, { merge: true });
        }
        return { toPublish, created: ok + error, busy };
      });
    },
    async publishedResultIds(job, ids) {
      if (ids.length === 0) return new Set();
      const snaps = await db.getAll(...ids.map((id) => results(job).doc(id)));
      return new Set(snaps.filter((s) => s.exists && s.get('published') === true).map((s) => s.id));
    },
    async markPublished(job, ids) {
      const batch = db.batch();
      for (const id of ids) batch.update(results(job).doc(id), { published: true, publishedAt: FieldValue.serverTimestamp() });
      await batch.commit();
    },
    async progress(job) {
      const snap = await counters(job).get();
      const p: Progress = { ok: 0, error: 0 };
      for (const d of snap.docs) {
        p.ok += Number(d.get('ok') ?? 0);
        p.error += Number(d.get('error') ?? 0);
      }
      return p;
    },
    async rollupCounts(job, progress) {
      try {
        await db.runTransaction(
          async (tx) => {
            const snap = await tx.get(jobRef(job));
            const c = (snap.get('counts') as Progress | undefined) ?? { ok: 0, error: 0 };
            if (snap.exists && progress.ok + progress.error > c.ok + c.error) {
              tx.update(jobRef(job), { counts: progress, updatedAt: FieldValue.serverTimestamp() });
            }
          },
          { maxAttempts: 1 },
        );
      } catch (err) {
        // The rollup is advisory (the counters are the truth): under contention, skip it.
        if ((err as { code?: unknown }).code !== ABORTED) throw err;
      }
    },
    async releasePublishLeases(job, ids) {
      const batch = db.batch();
      for (const id of ids) batch.update(results(job).doc(id), { publishLeaseUntil: 0 });
      await batch.commit();
    },
    claimCompletion: (job, progress, leaseMs) => leaseClaim(completionRef(job), leaseMs, { ...progress }, 'published'),
    async finishCompletion(job, progress) {
      const batch = db.batch();
      batch.update(completionRef(job), { published: true, publishedAt: FieldValue.serverTimestamp() });
      batch.set(jobRef(job), { state: 'COMPLETED', counts: progress, completedAt: FieldValue.serverTimestamp(), updatedAt: FieldValue.serverTimestamp() }, { merge: true });
      await batch.commit();
    },
  };
}

function toJobDoc(d: DocumentData): JobDoc {
  return { job: String(d.job), model: String(d.model ?? ''), state: d.state === 'COMPLETED' ? 'COMPLETED' : 'RUNNING', ...(typeof d.total === 'number' ? { total: d.total } : {}) };
}

const RESULT_FIELDS = ['id', 'job', 'imageUri', 'generation', 'status', 'label', 'confidence', 'error', 'reason', 'modelName', 'model', 'modelVersionId', 'deployedModelId', 'latencyMs'] as const;

function toResult(d: DocumentData): LabelResult {
  const out: Record<string, unknown> = {};
  for (const k of RESULT_FIELDS) out[k] = d[k] ?? null;
  return out as unknown as LabelResult;
}
