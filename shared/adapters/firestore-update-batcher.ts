import type { DocumentReference, Firestore, UpdateData } from '@google-cloud/firestore';

/** writes in one Firestore commit at most (the service's limit is 500) */
const MAX_BATCH = 500;

interface Pending {
  ref: DocumentReference;
  data: UpdateData<Record<string, unknown>>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Commits the single-document updates made within `windowMs` of each other in one batch: one
 * Commit call instead of one per update. Each caller's promise settles with the commit that
 * carries its update, so a caller still sees its own write land (or fail) before it goes on.
 * A batch is atomic: one failed update (a missing document) fails every update in it, and
 * their callers retry as they would after any failed write.
 */
export class FirestoreUpdateBatcher {
  private pending: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Firestore,
    private readonly windowMs: number,
  ) {}

  update(ref: DocumentReference, data: UpdateData<Record<string, unknown>>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ ref, data, resolve, reject });
      if (this.pending.length >= MAX_BATCH) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.windowMs);
    });
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.pending.length > 0) {
      const items = this.pending.splice(0, MAX_BATCH);
      const batch = this.db.batch();
      for (const i of items) batch.update(i.ref, i.data);
      batch.commit().then(
        () => items.forEach((i) => i.resolve()),
        (err: unknown) => items.forEach((i) => i.reject(err)),
      );
    }
  }
}
