import { randomBytes } from 'node:crypto';
import { FieldValue, Timestamp, type DocumentReference, type Firestore } from '@google-cloud/firestore';
import { FirestoreWriteBatcher } from '#shared/adapters/firestore-write-batcher';

/** the events an instance claims within this long share one done-marks document */
export const DONE_GROUP_MS = 1_000;

/**
 * The field a Firestore TTL policy deletes event claims and done-mark documents by
 * (terraform/firestore.tf: google_firestore_field events_expire_at, events_done_expire_at).
 */
export const EVENT_EXPIRY_FIELD = 'expireAt';
/**
 * How long an event's claim and done mark are kept: well past Eventarc's retries of one event
 * (24 h) and image-intake's own giving up (MAX_EVENT_AGE_MINUTES), so every duplicate that can
 * still arrive finds them. A later one would be labeled again; its result is still created
 * once (results/{id} is keyed by the object's generation).
 */
export const EVENT_RECORD_TTL_MS = 7 * 24 * 60 * 60_000;

/** the `expireAt` of an event record written at `nowMs` */
export function eventRecordExpiry(nowMs: number): Timestamp {
  return Timestamp.fromMillis(nowMs + EVENT_RECORD_TTL_MS);
}

interface Waiting {
  hashes: string[];
  waiters: Array<{ resolve: () => void; reject: (err: unknown) => void }>;
}

/**
 * The done marks of intake's event claims, written one document per group of claims instead of
 * one update per claim: a folder drop claims its images a few dozen at a time and finishes
 * them together (their shared request is published at once), so each image cost two writes
 * (its claim, then its done mark) where one will do.
 *
 * A claim records, as `doneIn`, the id of the group document its done mark will go to (this
 * instance's id and the claim's second); finishing adds the event's hash to that document's
 * `keys` (arrayUnion, so marks added by several commits all land). A duplicate delivery reads
 * the claim, then that document: one read more, on the rare path. The marks finished within
 * `windowMs` of each other go out in one commit (one write per group document).
 */
export class EventDoneMarks {
  private readonly instance = randomBytes(6).toString('hex');
  private readonly pending = new Map<string, { ref: DocumentReference; w: Waiting }>();
  private timer: NodeJS.Timeout | undefined;
  /** the group documents' writes: those of one flush go out in one commit */
  private readonly writes: FirestoreWriteBatcher;

  constructor(
    db: Firestore,
    private readonly windowMs: number,
  ) {
    this.writes = new FirestoreWriteBatcher(db, 0);
  }

  /** the group document id for a claim made at `nowMs` */
  groupFor(nowMs: number): string {
    return `${this.instance}-${Math.floor(nowMs / DONE_GROUP_MS)}`;
  }

  /** marks one event (by its claim document's id) done in its group document */
  mark(groupRef: DocumentReference, hash: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const key = groupRef.path;
      let p = this.pending.get(key);
      if (!p) {
        p = { ref: groupRef, w: { hashes: [], waiters: [] } };
        this.pending.set(key, p);
      }
      p.w.hashes.push(hash);
      p.w.waiters.push({ resolve, reject });
      if (this.windowMs <= 0) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.windowMs);
    });
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const groups = [...this.pending.values()];
    this.pending.clear();
    // enqueued in one turn: the group documents of one flush (a few at most) share a commit
    for (const { ref, w } of groups) {
      this.writes.merge(ref, { keys: FieldValue.arrayUnion(...w.hashes), doneAt: FieldValue.serverTimestamp(), [EVENT_EXPIRY_FIELD]: eventRecordExpiry(Date.now()) }).then(
        () => w.waiters.forEach((x) => x.resolve()),
        (err: unknown) => w.waiters.forEach((x) => x.reject(err)),
      );
    }
  }
}

/** whether the group document `doneIn` names holds this claim's done mark */
export async function markedDone(groupRef: DocumentReference, hash: string): Promise<boolean> {
  const snap = await groupRef.get();
  const keys = snap.exists ? (snap.get('keys') as unknown) : undefined;
  return Array.isArray(keys) && keys.includes(hash);
}
