import { createHash, randomInt } from 'node:crypto';
import { TransientError } from '#shared/errors';
import { GrpcCode, grpcCode } from '#shared/retry/error-codes';
import { FieldValue, Timestamp, type DocumentData, type DocumentReference, type Firestore } from '@google-cloud/firestore';
import { FirestoreWriteBatcher } from '#shared/adapters/firestore-write-batcher';
import { EVENT_EXPIRY_FIELD, EventDoneMarks, eventRecordExpiry, markedDone } from './event-done-marks';
import type { ClaimOutcome, JobDoc, LabelStore, Progress } from '../ports';
import { resultFromDocument, type LabelResult } from '../result';

/** Counter shards per job: each result transaction increments one, so no document is hot. */
export const COUNTER_SHARDS = 16;

/** create/re-read rounds before a delivery gives up and lets Pub/Sub redeliver */
const MAX_WRITE_ROUNDS = 8;

export interface LabelStoreOptions {
  /**
   * the first claims (creates) and the finishes of events made within this many ms of each
   * other go out in one commit each (a folder drop's events arrive, and its images' shared
   * request is published, a few dozen at a time); absent: one commit a write
   */
  eventWriteWindowMs?: number;
}

/** what leaseClaim writes and checks (see leaseClaim) */
interface LeaseClaim {
  /** the fields of a first claim, or what makes them from the claim's time */
  fresh: Record<string, unknown> | ((t: number) => Record<string, unknown>);
  /** the field that says the claimed work is done */
  doneField: string;
  /** try the create before any read (most claims are first sightings) */
  createFirst?: boolean;
  /** a claim whose done field is not set may be done elsewhere (an event's done-marks group) */
  doneElsewhere?: (d: DocumentData) => Promise<boolean>;
  /** extra fields a retaken claim gets */
  retaken?: (t: number) => Record<string, unknown>;
}

/**
 * Layout under jobs/{job}:
 *   (doc)          job, model, state RUNNING|COMPLETED, total (manifest jobs), counts (rollup)
 *   results/{id}   one per image (LabelResult) + published, publishLeaseUntil
 *   counters/{n}   ok, error: the source of truth for progress
 *   events/{hash}  intake idempotency claims (bucket/name#generation); doneIn names the
 *                  eventsDone/{group} document its done mark goes to
 *   eventsDone/{group}  keys: the hashes of the events claimed together (one instance, one second) that are done
 *                  (both carry expireAt, 7 days on: a TTL policy deletes them, see event-done-marks.ts)
 *   markers/completed  the job-completed message's claim
 */
export function firestoreLabelStore(db: Firestore, now: () => number = Date.now, opts: LabelStoreOptions = {}): LabelStore {
  const eventWrites = opts.eventWriteWindowMs ? new FirestoreWriteBatcher(db, opts.eventWriteWindowMs) : undefined;
  const jobRef = (job: string) => db.collection('jobs').doc(job);
  const results = (job: string) => jobRef(job).collection('results');
  const counters = (job: string) => jobRef(job).collection('counters');
  const eventHash = (key: string) => createHash('sha256').update(key).digest('hex').slice(0, 40);
  const eventRef = (job: string, key: string) => jobRef(job).collection('events').doc(eventHash(key));
  const doneGroupRef = (job: string, group: string) => jobRef(job).collection('eventsDone').doc(group);
  const doneMarks = new EventDoneMarks(db, opts.eventWriteWindowMs ?? 0);
  /** the done-marks group of each event this instance holds the claim of (set when claimed, read when finished) */
  const heldGroups = new Map<string, string>();
  const completionRef = (job: string) => jobRef(job).collection('markers').doc('completed');

  /**
   * A lease claim without a transaction: the Firestore emulator serialises transactions on one
   * document with locks and breaks the deadlock of two duplicate deliveries by a lock timeout
   * (seconds), so claims are an atomic create, or an update preconditioned on the version just
   * read (optimistic: the loser re-reads instead of waiting on a lock). A done claim costs one read.
   */
  async function leaseClaim(ref: DocumentReference, leaseMs: number, claim: LeaseClaim): Promise<ClaimOutcome> {
    const { fresh, doneField, createFirst = false, doneElsewhere, retaken } = claim;
    for (let first = true; ; first = false) {
      // createFirst: most claims are first sightings (every image of a folder drop), so the
      // create goes first, one round trip; a read follows only if the document exists (so a
      // done claim costs a failed create and a read).
      const snap = createFirst && first ? undefined : await ref.get();
      const t = now();
      if (!snap?.exists) {
        try {
          // createdAt is the claimer's clock, not a server timestamp: a transform makes the
          // server work out the value on every create, and a folder drop creates a claim an
          // image (in the Firestore emulator a claim cost about a third more with it).
          const data = { ...(typeof fresh === 'function' ? fresh(t) : fresh), [doneField]: false, leaseUntil: t + leaseMs, createdAt: Timestamp.fromMillis(t) };
          await (createFirst && first && eventWrites ? eventWrites.create(ref, data) : ref.create(data));
          return 'claimed';
        } catch (err) {
          if (grpcCode(err) !== GrpcCode.ALREADY_EXISTS) throw err;
          continue;
        }
      }
      const d = snap.data()!;
      if (d[doneField] === true) return 'done';
      if (doneElsewhere && (await doneElsewhere(d))) return 'done';
      if (typeof d.leaseUntil === 'number' && d.leaseUntil > t) return 'busy';
      try {
        await ref.update({ leaseUntil: t + leaseMs, retakenAt: FieldValue.serverTimestamp(), ...retaken?.(t) }, { lastUpdateTime: snap.updateTime! });
        return 'claimed';
      } catch (err) {
        if (grpcCode(err) !== GrpcCode.FAILED_PRECONDITION) throw err;
      }
    }
  }

  return {
    async claimEvent(job, key, leaseMs) {
      const ref = eventRef(job, key);
      let group = '';
      // what a claim made (or retaken) at t says: its done-marks group, and when the TTL deletes it
      const held = (t: number) => ({ doneIn: (group = doneMarks.groupFor(t)), [EVENT_EXPIRY_FIELD]: eventRecordExpiry(t) });
      const outcome = await leaseClaim(ref, leaseMs, {
        fresh: (t) => ({ key, ...held(t) }),
        doneField: 'done',
        createFirst: true,
        doneElsewhere: (d) => (typeof d.doneIn === 'string' ? markedDone(doneGroupRef(job, d.doneIn), ref.id) : Promise.resolve(false)),
        retaken: held,
      });
      if (outcome === 'claimed') heldGroups.set(ref.path, group);
      return outcome;
    },
    async releaseEvent(job, key) {
      heldGroups.delete(eventRef(job, key).path);
      await eventRef(job, key).update({ leaseUntil: 0 });
    },
    async finishEvent(job, key) {
      const ref = eventRef(job, key);
      const group = heldGroups.get(ref.path);
      heldGroups.delete(ref.path);
      // One write per group of claims (see event-done-marks.ts); a claim this instance did not
      // make here (none in practice) gets its done mark on itself.
      if (group) await doneMarks.mark(doneGroupRef(job, group), ref.id);
      else await ref.update({ done: true, doneAt: FieldValue.serverTimestamp() });
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
        if (grpcCode(err) !== GrpcCode.ALREADY_EXISTS) throw err;
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
      // No transaction (see leaseClaim): the new results and their count go in one atomic batch
      // of creates, which fails whole if a duplicate delivery created any of them first; then
      // this re-reads and creates only what is still missing. Taking over a stale publish lease
      // is an update preconditioned on the version read, so exactly one delivery wins it.
      const toPublish: LabelResult[] = [];
      const busy: string[] = [];
      const created: LabelResult[] = [];
      let pending = [...new Map(input.map((r) => [r.id, r])).values()];
      for (let round = 1; pending.length > 0; round++) {
        if (round > MAX_WRITE_ROUNDS) throw new TransientError(`results of job ${job} kept changing under this delivery; retrying later`);
        const refs = pending.map((r) => results(job).doc(r.id));
        const snaps = await db.getAll(...refs);
        const t = now();
        const again: LabelResult[] = [];
        const missing = pending.filter((_, i) => !snaps[i]!.exists);
        const takeovers = snaps.map(async (snap, i) => {
          if (!snap.exists) return;
          const d = snap.data()!;
          if (d.published === true) return;
          if (typeof d.publishLeaseUntil === 'number' && d.publishLeaseUntil > t) {
            busy.push(snap.id);
            return;
          }
          try {
            await refs[i]!.update({ publishLeaseUntil: t + leaseMs }, { lastUpdateTime: snap.updateTime! });
            // the result as stored, every schema field of it, for the taking-over delivery to publish
            toPublish.push(resultFromDocument(d));
          } catch (err) {
            if (grpcCode(err) !== GrpcCode.FAILED_PRECONDITION) throw err;
            again.push(pending[i]!);
          }
        });
        const creates = (async () => {
          if (missing.length === 0) return;
          const batch = db.batch();
          let ok = 0;
          for (const r of missing) {
            batch.create(results(job).doc(r.id), { ...r, published: false, publishLeaseUntil: t + leaseMs, createdAt: FieldValue.serverTimestamp() });
            if (r.status === 'OK') ok++;
          }
          const shard = counters(job).doc(String(randomInt(COUNTER_SHARDS)));
          batch.set(shard, { ok: FieldValue.increment(ok), error: FieldValue.increment(missing.length - ok) }, { merge: true });
          try {
            await batch.commit();
            toPublish.push(...missing);
            created.push(...missing);
          } catch (err) {
            if (grpcCode(err) !== GrpcCode.ALREADY_EXISTS) throw err;
            again.push(...missing);
          }
        })();
        await Promise.all([...takeovers, creates]);
        pending = again;
      }
      return { toPublish, created, busy };
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
    async confirmPublished(job, id) {
      try {
        // publishedAt stays the publisher's: a result with ledgerSawAt and no publishedAt is one its
        // publisher died before flagging.
        await results(job).doc(id).update({ published: true, ledgerSawAt: FieldValue.serverTimestamp() });
        return 'confirmed';
      } catch (err) {
        if (grpcCode(err) === GrpcCode.NOT_FOUND) return 'unknown';
        throw err;
      }
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
      const snap = await jobRef(job).get();
      const c = (snap.get('counts') as Progress | undefined) ?? { ok: 0, error: 0 };
      if (!snap.exists || progress.ok + progress.error <= c.ok + c.error) return;
      try {
        await jobRef(job).update({ counts: progress, updatedAt: FieldValue.serverTimestamp() }, { lastUpdateTime: snap.updateTime! });
      } catch (err) {
        // The rollup is advisory (the counters are the truth): if another writer won, skip it.
        if (grpcCode(err) !== GrpcCode.FAILED_PRECONDITION) throw err;
      }
    },
    async releasePublishLeases(job, ids) {
      const batch = db.batch();
      for (const id of ids) batch.update(results(job).doc(id), { publishLeaseUntil: 0 });
      await batch.commit();
    },
    claimCompletion: (job, progress, leaseMs) => leaseClaim(completionRef(job), leaseMs, { fresh: { ...progress }, doneField: 'published' }),
    async finishCompletion(job, progress) {
      const batch = db.batch();
      batch.update(completionRef(job), { published: true, publishedAt: FieldValue.serverTimestamp() });
      batch.set(jobRef(job), { state: 'COMPLETED', counts: progress, completedAt: FieldValue.serverTimestamp(), updatedAt: FieldValue.serverTimestamp() }, { merge: true });
      await batch.commit();
    },
    async confirmCompletion(job, progress) {
      const batch = db.batch();
      batch.update(completionRef(job), { published: true, ledgerSawAt: FieldValue.serverTimestamp() });
      batch.set(jobRef(job), { state: 'COMPLETED', counts: progress, updatedAt: FieldValue.serverTimestamp() }, { merge: true });
      try {
        await batch.commit();
        return 'confirmed';
      } catch (err) {
        if (grpcCode(err) === GrpcCode.NOT_FOUND) return 'unknown';
        throw err;
      }
    },
  };
}

function toJobDoc(d: DocumentData): JobDoc {
  return { job: String(d.job), model: String(d.model ?? ''), state: d.state === 'COMPLETED' ? 'COMPLETED' : 'RUNNING', ...(typeof d.total === 'number' ? { total: d.total } : {}) };
}
