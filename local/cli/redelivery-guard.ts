/**
 * Drops copies of a message already handed on. Pub/Sub delivers at least once, and dropship can
 * publish a result twice in a rare crash window (docs/labeling.md), always with the same
 * `resultId` attribute; so the key is the message's business identity, not its message id.
 */
export class RedeliveryGuard {
  private readonly seen = new Set<string>();

  constructor(private readonly capacity = 1_000_000) {}

  /** true the first time a key is offered; false for every copy after it */
  firstTime(key: string): boolean {
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    // oldest first out: a Set iterates in insertion order
    if (this.seen.size > this.capacity) this.seen.delete(this.seen.values().next().value!);
    return true;
  }
}

/** What identifies a message on the topics dropship publishes (shared/messages/contract.ts). */
export function messageKey(messageId: string, attributes: Record<string, string>, body: unknown): string {
  if (attributes.resultId) return `result ${attributes.resultId}`;
  const b = (body ?? {}) as Record<string, unknown>;
  if (attributes.type === 'job-completed' && attributes.job) return `job-completed ${attributes.job}`;
  if (typeof b.model === 'string' && typeof b.version === 'string' && typeof b.state === 'string' && typeof b.at === 'string') return `model-event ${b.model}/${b.version} ${b.state} ${b.at}`;
  return `message ${messageId}`;
}
