import type { ManifestCheckpoint, ManifestCheckpoints } from '#shared/labeling/ports';
import { FaultPlan, stored } from '../faults';

/** jobs/{job}.manifestIntake in memory, with every write kept in order. */
export class FakeManifestCheckpoints implements ManifestCheckpoints {
  readonly faults = new FaultPlan<'put'>();
  readonly writes: ManifestCheckpoint[] = [];
  private readonly byJob = new Map<string, ManifestCheckpoint>();

  async get(job: string): Promise<ManifestCheckpoint | undefined> {
    const cp = this.byJob.get(job);
    return cp ? { ...cp } : undefined;
  }

  async put(job: string, checkpoint: ManifestCheckpoint): Promise<void> {
    this.faults.check('put', job);
    this.byJob.set(job, stored(checkpoint));
    this.writes.push(stored(checkpoint));
  }
}
