import { systemRetryClock, type RetryClock } from '#shared/retry/retry-policy';

/** Time as a use case sees it: injected, so a test can move it without sleeping. */
export type Clock = RetryClock;
export const systemClock: Clock = systemRetryClock;

/**
 * Waits for what another party is finishing (a duplicate delivery that holds a lease): calls
 * `check` until it reports done, sleeping `intervalMs` between calls while the clock has not
 * passed `until` (epoch ms). True when done; false when time ran out first, and the caller
 * decides what that means (a TransientError, so the platform redelivers later).
 */
export async function waitUntilDone(check: () => Promise<boolean>, opts: { until: number; intervalMs: number; clock?: Clock }): Promise<boolean> {
  const clock = opts.clock ?? systemClock;
  for (;;) {
    if (await check()) return true;
    if (clock.now() > opts.until) return false;
    await clock.sleep(opts.intervalMs);
  }
}
