import type { JobDoc, Progress, ResultPublisher } from '#shared/labeling/ports';
import type { LabelResult } from '#shared/labeling/result';
import { FaultPlan, stored } from '../faults';

/** prediction-results as the list of what was published (a publish that throws publishes nothing). */
export class FakeResultPublisher implements ResultPublisher {
  readonly faults = new FaultPlan<keyof ResultPublisher>();
  readonly results: LabelResult[] = [];
  readonly completions: Array<{ job: JobDoc; progress: Progress }> = [];

  async publishResult(result: LabelResult): Promise<void> {
    this.faults.check('publishResult', result.id);
    this.results.push(stored(result));
  }

  async publishJobCompleted(job: JobDoc, progress: Progress): Promise<void> {
    this.faults.check('publishJobCompleted', job.job);
    this.completions.push(stored({ job, progress }));
  }
}
