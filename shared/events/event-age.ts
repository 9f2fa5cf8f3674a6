/**
 * How old an event is, from its CloudEvent `time` (or the object's creation time): a handler
 * uses it to stop retrying a poison event and record why, instead of failing for a whole day.
 * Undefined when the event carries no readable time.
 */
export function eventAgeMs(time: string | undefined, nowMs: number): number | undefined {
  if (!time) return undefined;
  const at = Date.parse(time);
  return Number.isNaN(at) ? undefined : Math.max(0, nowMs - at);
}
