import type { RequestPublisher } from '#shared/labeling/ports';
import { FaultPlan, stored } from '../faults';

/** The prediction-requests topic as the list of what was published. */
export class FakeRequestPublisher implements RequestPublisher {
  readonly faults = new FaultPlan<'publishRequest'>();
  readonly sent: Array<{ body: unknown; attributes: Record<string, string> }> = [];

  async publishRequest(body: unknown, attributes: Record<string, string>): Promise<void> {
    this.faults.check('publishRequest', body);
    this.sent.push(stored({ body, attributes }));
  }
}
