import type { DocumentReference, Firestore, UpdateData, WithFieldValue } from '@google-cloud/firestore';

/** writes in one Firestore commit at most (the service's limit is 500) */
const MAX_BATCH = 500;

type Write =
  | { kind: 'create'; data: WithFieldValue<Record<string, unknown>> }
  | { kind: 'update'; data: UpdateData<Record<string, unknown>> }
  | { kind: 'merge'; data: WithFieldValue<Record<string, unknown>> };

interface Pending {
  ref: DocumentReference;
  write: Write;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Commits the single-document creates and updates made within `windowMs` of each other in one
 * batch: one Commit call instead of one per write (a folder drop's images are claimed, and later
 * finished, a few dozen at a time). Each caller's promise settles with its own write: a batch is
 * atomic, so when it fails (one create finds its document there, one update finds none) each of
 * its writes is retried alone, and each caller gets the outcome of its own write.
 */
export class FirestoreWriteBatcher {
  private pending: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Firestore,
    private readonly windowMs: number,
  ) {}

  create(ref: DocumentReference, data: WithFieldValue<Record<string, unknown>>): Promise<void> {
    return this.enqueue(ref, { kind: 'create', data });
  }

  update(ref: DocumentReference, data: UpdateData<Record<string, unknown>>): Promise<void> {
    return this.enqueue(ref, { kind: 'update', data });
  }

  /** a set with merge: creates the document or merges into it */
  merge(ref: DocumentReference, data: WithFieldValue<Record<string, unknown>>): Promise<void> {
    return this.enqueue(ref, { kind: 'merge', data });
  }

  private enqueue(ref: DocumentReference, write: Write): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ ref, write, resolve, reject });
      if (this.pending.length >= MAX_BATCH) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.windowMs);
    });
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.pending.length > 0) {
      const items = this.pending.splice(0, MAX_BATCH);
      if (items.length === 1) {
        this.alone(items[0]!);
        continue;
      }
      const batch = this.db.batch();
      for (const i of items) {
        if (i.write.kind === 'create') batch.create(i.ref, i.write.data);
        else if (i.write.kind === 'merge') batch.set(i.ref, i.write.data, { merge: true });
        else batch.update(i.ref, i.write.data);
      }
      batch.commit().then(
        () => items.forEach((i) => i.resolve()),
        () => items.forEach((i) => this.alone(i)),
      );
    }
  }

  private alone(i: Pending): void {
    const w = i.write;
    const done = w.kind === 'create' ? i.ref.create(w.data) : w.kind === 'merge' ? i.ref.set(w.data, { merge: true }) : i.ref.update(w.data);
    done.then(() => i.resolve(), i.reject);
  }
}
