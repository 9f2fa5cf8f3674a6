/**
 * Waits for a condition instead of sleeping: polls `cond` until it holds, and past the bound
 * fails with what was awaited (the `what` given, else the condition's source), so a timeout
 * reads as the broken expectation rather than as a later assertion on stale state.
 */
export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000, what?: string, intervalMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what ?? describe(cond)}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Like waitFor, for a value: resolves with the first non-undefined result of `probe`. */
export async function waitForValue<T>(probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000, what?: string, intervalMs = 100): Promise<T> {
  let value: T | undefined;
  await waitFor(
    async () => {
      value = await probe();
      return value !== undefined;
    },
    timeoutMs,
    what ?? describe(probe),
    intervalMs,
  );
  return value as T;
}

function describe(fn: (...args: never[]) => unknown): string {
  return fn.toString().replace(/\s+/g, ' ').slice(0, 300);
}
