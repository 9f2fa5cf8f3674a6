import { advanceVersion } from './advance-version';
import type { DeploymentContext } from './context';

/** Follows the named versions' pending operations here, for callers that want to wait. */
export async function waitForVersions(ctx: DeploymentContext, model: string, versions: string[], waitMs: number, holder: string): Promise<void> {
  const deadline = ctx.clock.now().getTime() + waitMs;
  let pending = [...versions];
  while (pending.length > 0 && ctx.clock.now().getTime() < deadline) {
    const still: string[] = [];
    for (const version of pending) {
      const rec = await ctx.store.acquireLease(model, version, holder, ctx.leaseMs, ctx.clock.now());
      if (!rec) {
        still.push(version);
        continue;
      }
      try {
        const next = await advanceVersion(ctx, rec, holder, { waitForUploadMs: 0, pollIntervalMs: 0 });
        if (next.operation) still.push(version);
      } finally {
        await ctx.store.releaseLease(model, version, holder).catch(() => undefined);
      }
    }
    pending = still;
    if (pending.length > 0) await ctx.clock.sleep(250);
  }
}
