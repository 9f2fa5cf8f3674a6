import type { ModelEvent, ModelEventsPublisher } from '#shared/deployment/ports';
import { FaultPlan, stored } from '../faults';

/** model-events as a list of what was published (a publish that throws publishes nothing). */
export class FakeModelEvents implements ModelEventsPublisher {
  readonly faults = new FaultPlan<'publish'>();
  readonly published: ModelEvent[] = [];

  async publish(event: ModelEvent): Promise<void> {
    this.faults.check('publish', event);
    this.published.push(stored(event));
  }

  /** "from -> state" of every message, for one version */
  transitions(model: string, version: string): string[] {
    return this.published.filter((e) => e.model === model && e.version === version).map((e) => `${e.from ?? '(none)'} -> ${e.state}`);
  }
}
