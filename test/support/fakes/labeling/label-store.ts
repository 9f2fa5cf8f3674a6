import type { ClaimOutcome, JobDoc, LabelStore, Progress } from '#shared/labeling/ports';
import type { LabelResult } from '#shared/labeling/result';
import { FaultPlan, stored } from '../faults';

interface StoredResult {
  result: LabelResult;
  published: boolean;
  publishLeaseUntil: number;
}

interface Lease {
  done: boolean;
  leaseUntil: number;
  progress?: Progress;
}

/**
 * The jobs/{job} tree in memory, with firestoreLabelStore's contract: a result is created
 * once (a second create of its id does nothing but report it), and counted where it is
 * created; an unpublished result belongs to its creator's publish lease until that runs out,
 * then to whoever records it next; event and completion claims are leases with the same rule.
 * `now` is the clock leases are judged on.
 */
export class FakeLabelStore implements LabelStore {
  readonly faults = new FaultPlan<keyof LabelStore>();
  readonly jobs = new Map<string, JobDoc & { counts: Progress; manifestUri?: string }>();
  readonly results = new Map<string, Map<string, StoredResult>>();
  readonly events = new Map<string, Lease>();
  readonly completions = new Map<string, Lease>();
  private readonly counts = new Map<string, Progress>();

  constructor(private readonly now: () => number) {}

  result(job: string, id: string): (LabelResult & { published: boolean }) | undefined {
    const r = this.results.get(job)?.get(id);
    return r ? { ...stored(r.result), published: r.published } : undefined;
  }

  resultsOf(job: string): Array<LabelResult & { published: boolean }> {
    return [...(this.results.get(job)?.values() ?? [])].map((r) => ({ ...stored(r.result), published: r.published }));
  }

  async claimEvent(job: string, key: string, leaseMs: number): Promise<ClaimOutcome> {
    this.faults.check('claimEvent', job, key);
    return this.claim(this.events, `${job}|${key}`, leaseMs);
  }

  async finishEvent(job: string, key: string): Promise<void> {
    this.faults.check('finishEvent', job, key);
    const e = this.events.get(`${job}|${key}`);
    if (!e) throw Object.assign(new Error(`5 NOT_FOUND: no event claim ${key}`), { code: 5 });
    e.done = true;
  }

  async releaseEvent(job: string, key: string): Promise<void> {
    this.faults.check('releaseEvent', job, key);
    const e = this.events.get(`${job}|${key}`);
    if (!e) throw Object.assign(new Error(`5 NOT_FOUND: no event claim ${key}`), { code: 5 });
    e.leaseUntil = 0;
  }

  async getJob(job: string): Promise<JobDoc | undefined> {
    this.faults.check('getJob', job);
    const j = this.jobs.get(job);
    return j ? jobDoc(j) : undefined;
  }

  async ensureJob(job: string, model: string): Promise<JobDoc> {
    this.faults.check('ensureJob', job, model);
    if (!this.jobs.has(job)) this.jobs.set(job, { job, model, state: 'RUNNING', counts: { ok: 0, error: 0 } });
    return jobDoc(this.jobs.get(job)!);
  }

  async setJobModel(job: string, model: string): Promise<void> {
    this.faults.check('setJobModel', job, model);
    const j = this.jobs.get(job) ?? { job, model, state: 'RUNNING' as const, counts: { ok: 0, error: 0 } };
    this.jobs.set(job, { ...j, model });
  }

  async setJobTotal(job: string, total: number, model: string, manifestUri: string): Promise<void> {
    this.faults.check('setJobTotal', job, total);
    const j = this.jobs.get(job) ?? { job, model, state: 'RUNNING' as const, counts: { ok: 0, error: 0 } };
    this.jobs.set(job, { ...j, model, total, manifestUri, state: 'RUNNING' });
  }

  async recordResults(job: string, input: readonly LabelResult[], leaseMs: number) {
    this.faults.check(
      'recordResults',
      job,
      input.map((r) => r.id),
    );
    const t = this.now();
    const docs = this.results.get(job) ?? new Map<string, StoredResult>();
    this.results.set(job, docs);
    const toPublish: LabelResult[] = [];
    const created: LabelResult[] = [];
    const busy: string[] = [];
    for (const r of new Map(input.map((x) => [x.id, x])).values()) {
      const d = docs.get(r.id);
      if (!d) {
        docs.set(r.id, { result: stored(r), published: false, publishLeaseUntil: t + leaseMs });
        const c = this.counts.get(job) ?? { ok: 0, error: 0 };
        this.counts.set(job, r.status === 'OK' ? { ...c, ok: c.ok + 1 } : { ...c, error: c.error + 1 });
        created.push(stored(r));
        toPublish.push(stored(r));
      } else if (d.published) {
        // recorded and published already: nothing to do
      } else if (d.publishLeaseUntil > t) {
        busy.push(r.id);
      } else {
        d.publishLeaseUntil = t + leaseMs;
        toPublish.push(stored(d.result)); // the stored result, not this delivery's copy
      }
    }
    return { toPublish, created, busy };
  }

  async publishedResultIds(job: string, ids: readonly string[]): Promise<Set<string>> {
    this.faults.check('publishedResultIds', job, ids);
    const docs = this.results.get(job);
    return new Set(ids.filter((id) => docs?.get(id)?.published === true));
  }

  async markPublished(job: string, ids: readonly string[]): Promise<void> {
    this.faults.check('markPublished', job, ids);
    for (const id of ids) {
      const d = this.results.get(job)?.get(id);
      if (!d) throw Object.assign(new Error(`5 NOT_FOUND: no result ${id}`), { code: 5 });
      d.published = true;
    }
  }

  async confirmPublished(job: string, id: string): Promise<'confirmed' | 'unknown'> {
    this.faults.check('confirmPublished', job, id);
    const d = this.results.get(job)?.get(id);
    if (!d) return 'unknown';
    d.published = true;
    return 'confirmed';
  }

  async releasePublishLeases(job: string, ids: readonly string[]): Promise<void> {
    this.faults.check('releasePublishLeases', job, ids);
    for (const id of ids) {
      const d = this.results.get(job)?.get(id);
      if (d) d.publishLeaseUntil = 0;
    }
  }

  async progress(job: string): Promise<Progress> {
    this.faults.check('progress', job);
    return { ...(this.counts.get(job) ?? { ok: 0, error: 0 }) };
  }

  async rollupCounts(job: string, progress: Progress): Promise<void> {
    this.faults.check('rollupCounts', job, progress);
    const j = this.jobs.get(job);
    if (!j || progress.ok + progress.error <= j.counts.ok + j.counts.error) return;
    j.counts = { ...progress };
  }

  async claimCompletion(job: string, progress: Progress, leaseMs: number): Promise<'claimed' | 'done' | 'busy'> {
    this.faults.check('claimCompletion', job, progress);
    return this.claim(this.completions, job, leaseMs, progress);
  }

  async finishCompletion(job: string, progress: Progress): Promise<void> {
    this.faults.check('finishCompletion', job, progress);
    const c = this.completions.get(job);
    if (!c) throw Object.assign(new Error(`5 NOT_FOUND: no completion claim of ${job}`), { code: 5 });
    c.done = true;
    const j = this.jobs.get(job)!;
    this.jobs.set(job, { ...j, state: 'COMPLETED', counts: { ...progress } });
  }

  async confirmCompletion(job: string, progress: Progress): Promise<'confirmed' | 'unknown'> {
    this.faults.check('confirmCompletion', job, progress);
    const c = this.completions.get(job);
    if (!c) return 'unknown';
    c.done = true;
    const j = this.jobs.get(job);
    if (j) this.jobs.set(job, { ...j, state: 'COMPLETED', counts: { ...progress } });
    return 'confirmed';
  }

  private claim(leases: Map<string, Lease>, key: string, leaseMs: number, progress?: Progress): ClaimOutcome {
    const t = this.now();
    const l = leases.get(key);
    if (!l) {
      leases.set(key, { done: false, leaseUntil: t + leaseMs, ...(progress ? { progress } : {}) });
      return 'claimed';
    }
    if (l.done) return 'done';
    if (l.leaseUntil > t) return 'busy';
    l.leaseUntil = t + leaseMs;
    return 'claimed';
  }
}

function jobDoc(j: JobDoc): JobDoc {
  return { job: j.job, model: j.model, state: j.state, ...(j.total !== undefined ? { total: j.total } : {}) };
}
