import { reconcile } from '#shared/deployment/reconcile';
import type { DeploymentContext } from '#shared/deployment/context';
import { demoModelFiles, startDeploymentStack, type DeploymentStack } from './deployment-stack';

const MODEL = 'never-ready';
const MINUTE = 60_000;

describe('nothing stays in an intermediate state forever', () => {
  let stack: DeploymentStack;

  beforeAll(async () => {
    stack = await startDeploymentStack({ lroDelayMs: 200 });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('the reconciler fails a version whose DeployModel never finishes, once it is older than the limit, and says why', async () => {
    // Prepare: a deploy operation that outlives the test by far; the version reaches DEPLOYING.
    stack.vertexEmulator.setFaults({ operationDelayMs: { deployModel: 60 * MINUTE } });
    await stack.upload(MODEL, 'v1', demoModelFiles());
    const deploying = await stack.waitForState(MODEL, 'v1', ['DEPLOYING']);
    const later = (ms: number): DeploymentContext => ({ ...stack.ctx, clock: { now: () => new Date(Date.now() + ms), sleep: (t) => stack.ctx.clock.sleep(t) } });

    // Act: a tick within the limit, then one five minutes on with a one-minute limit.
    const early = await reconcile(later(0), { stuckAfterMs: MINUTE });
    const afterEarly = await stack.version(MODEL, 'v1');
    const late = await reconcile(later(5 * MINUTE), { stuckAfterMs: MINUTE });
    const failed = await stack.version(MODEL, 'v1');

    // Assess
    expect(early.changed).toEqual([]);
    expect(afterEarly?.state).toBe('DEPLOYING');
    expect(late.changed).toEqual([{ model: MODEL, version: 'v1', from: 'DEPLOYING', to: 'FAILED' }]);
    expect(failed?.state).toBe('FAILED');
    expect(failed?.error).toMatch(/^stuck in DEPLOYING for 5 min \(limit 1 min\); operation .*\/operations\/\S+ never finished$/);
    expect(failed?.error).toContain(deploying.operation!.name);
    expect(failed?.history.map((h) => h.to)).toEqual(['PENDING', 'VALIDATING', 'REGISTERING', 'DEPLOYING', 'FAILED']);
  });
});
