/**
 * The model of each job an intake instance has seen, kept for a few seconds: every image of a
 * folder drop is one event, and without this each one read its job's document again (one
 * Firestore read an image) to learn a model that does not change once the job exists, since
 * `_job.json` goes in before the images (docs/labeling.md). A `_job.json` handled by this
 * instance replaces the entry at once; other instances follow within `ttlMs`.
 */
export class JobModelCache {
  private readonly entries = new Map<string, { model: string; until: number }>();

  constructor(
    private readonly ttlMs: number,
    /** entries kept at most (the oldest goes first); a folder drop is one job, so a few suffice */
    private readonly maxJobs = 1000,
  ) {}

  get(job: string, now: number): string | undefined {
    const e = this.entries.get(job);
    if (!e) return undefined;
    if (e.until <= now) {
      this.entries.delete(job);
      return undefined;
    }
    return e.model;
  }

  set(job: string, model: string, now: number): void {
    this.entries.delete(job);
    if (this.entries.size >= this.maxJobs) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(job, { model, until: now + this.ttlMs });
  }
}
