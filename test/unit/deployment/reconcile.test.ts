import { handleArtifactEvent, type DropConfig } from '#shared/deployment/drop-model';
import { reconcile } from '#shared/deployment/reconcile';
import { LOG_EVENTS } from '#shared/logging/log-events';
import { fakeDeployment, type FakeDeployment } from '#test/support/fakes/deployment/context';
import { MODELS_BUCKET, savedModelFiles, uploadVersion } from '#test/support/fakes/deployment/saved-model-version';
import { notFound, unavailable } from '#test/support/fakes/faults';

const DROP: DropConfig = { modelsBucket: MODELS_BUCKET, requireMarker: false, waitForUploadMs: 0, pollIntervalMs: 0 };
const OPTS = { stuckAfterMs: 30 * 60_000 };

/** One reconciler tick on in-memory fakes: follows operations by name, leases, fails what is stuck. */
describe('reconcile', () => {
  let f: FakeDeployment;

  beforeEach(() => {
    f = fakeDeployment({ checksBeforeDone: 'manual' });
  });

  /** model-drop leaves v1 REGISTERING with its UploadModel running */
  async function dropped(version = 'v1') {
    const events = uploadVersion(f.artifacts, 'digits', version, savedModelFiles());
    expect(await handleArtifactEvent(f.ctx, DROP, events.at(-1)!)).toEqual({ outcome: 'advanced', state: 'REGISTERING' });
  }

  it('has nothing to do when no version is in progress', async () => {
    expect(await reconcile(f.ctx, OPTS)).toEqual({ checked: 0, busy: 0, changed: [], errors: [] });
  });

  it('follows the upload, then the deploy, tick by tick, releasing its lease after each', async () => {
    // Prepare
    await dropped();
    // Act / Assess: nothing finished yet
    expect(await reconcile(f.ctx, OPTS)).toEqual({ checked: 1, busy: 0, changed: [], errors: [] });
    // the upload finishes: the tick starts DeployModel
    f.vertex.finish();
    expect(await reconcile(f.ctx, OPTS)).toEqual({ checked: 1, busy: 0, changed: [{ model: 'digits', version: 'v1', from: 'REGISTERING', to: 'DEPLOYING' }], errors: [] });
    expect(f.store.version('digits', 'v1')).toMatchObject({ operation: { kind: 'deploy' }, lease: null });
    // the deploy finishes
    f.vertex.finish();
    expect((await reconcile(f.ctx, OPTS)).changed).toEqual([{ model: 'digits', version: 'v1', from: 'DEPLOYING', to: 'DEPLOYED' }]);
    expect(f.store.version('digits', 'v1')).toMatchObject({ state: 'DEPLOYED', trafficPercent: 100, operation: null, lease: null });
    // DEPLOYED with nothing pending is no longer the reconciler's
    expect(await reconcile(f.ctx, OPTS)).toEqual({ checked: 0, busy: 0, changed: [], errors: [] });
    expect(f.vertex.faults.count('startDeploy')).toBe(1);
  });

  it('skips a version another worker holds, and two overlapping ticks act on it once', async () => {
    // Prepare
    await dropped();
    f.vertex.finish();
    const held = await f.store.acquireLease('digits', 'v1', 'model-drop:other', 60_000, f.clock.now());
    // Act
    const checksBefore = f.vertex.faults.calls.length;
    const busy = await reconcile(f.ctx, OPTS);
    // Assess
    expect(busy).toEqual({ checked: 1, busy: 1, changed: [], errors: [] });
    expect(f.vertex.faults.calls.length).toBe(checksBefore);
    // Act: the holder lets go; two ticks overlap
    await f.store.releaseLease('digits', 'v1', held!.lease!.holder);
    const [a, b] = await Promise.all([reconcile(f.ctx, OPTS), reconcile(f.ctx, OPTS)]);
    // Assess
    expect([a.busy, b.busy].sort()).toEqual([0, 1]);
    expect([...a.changed, ...b.changed]).toEqual([{ model: 'digits', version: 'v1', from: 'REGISTERING', to: 'DEPLOYING' }]);
    expect(f.vertex.faults.count('startDeploy')).toBe(1);
  });

  it('fails a version stuck past the limit, saying where and which operation, and logs the metric line once', async () => {
    // Prepare
    await dropped();
    const op = f.store.version('digits', 'v1').operation!.name;
    f.clock.advance(OPTS.stuckAfterMs + 60_000);
    // Act
    const summary = await reconcile(f.ctx, OPTS);
    // Assess
    expect(summary.changed).toEqual([{ model: 'digits', version: 'v1', from: 'REGISTERING', to: 'FAILED' }]);
    expect(f.store.version('digits', 'v1').error).toBe(`stuck in REGISTERING for 31 min (limit 30 min); operation ${op} never finished`);
    expect(f.logs.filter((l) => l.event === LOG_EVENTS.deploymentStuck)).toEqual([
      expect.objectContaining({ model: 'digits', version: 'v1', state: 'REGISTERING', operation: op, stuckSeconds: 31 * 60 }),
    ]);
    expect(await reconcile(f.ctx, OPTS)).toEqual({ checked: 0, busy: 0, changed: [], errors: [] });
  });

  it('leaves a version as it was after a transient error, for the next tick to retry', async () => {
    // Prepare
    await dropped();
    f.vertex.finish();
    f.vertex.faults.failAlways('checkUpload', unavailable('vertex'));
    // Act
    const summary = await reconcile(f.ctx, OPTS);
    // Assess
    expect(summary).toMatchObject({ checked: 1, changed: [], errors: [{ model: 'digits', version: 'v1', error: expect.stringContaining('UNAVAILABLE') }] });
    expect(f.store.version('digits', 'v1')).toMatchObject({ state: 'REGISTERING', operation: { kind: 'upload' }, lease: null });
    expect(f.logs.some((l) => l.severity === 'WARNING' && l.message.startsWith('transient error; the next tick'))).toBe(true);
    // Act: the next tick, Vertex AI answering again
    f.vertex.faults.heal();
    expect((await reconcile(f.ctx, OPTS)).changed).toEqual([{ model: 'digits', version: 'v1', from: 'REGISTERING', to: 'DEPLOYING' }]);
  });

  it('fails an in-progress version whose operation Vertex AI no longer knows (a permanent error)', async () => {
    // Prepare
    await dropped();
    f.vertex.faults.failAlways('checkUpload', notFound('operation'));
    // Act
    const summary = await reconcile(f.ctx, OPTS);
    // Assess
    expect(summary.errors).toHaveLength(1);
    expect(f.store.version('digits', 'v1')).toMatchObject({ state: 'FAILED', error: expect.stringMatching(/^reconciler: .*NOT_FOUND/), lease: null });
    expect(f.events.transitions('digits', 'v1').at(-1)).toBe('REGISTERING -> FAILED');
  });

  it('finishes the undeploy of a replaced version: SUPERSEDED', async () => {
    // Prepare: v1 deployed, then v2 replaces it, each followed by the ticks
    const tickUntilDeployed = async (version: string) => {
      await dropped(version);
      for (let tick = 0; tick < 2; tick++) {
        f.vertex.finish();
        await reconcile(f.ctx, OPTS);
      }
      expect(f.store.version('digits', version).state).toBe('DEPLOYED');
    };
    await tickUntilDeployed('v1');
    await tickUntilDeployed('v2');
    expect(f.store.version('digits', 'v1')).toMatchObject({ state: 'DEPLOYED', trafficPercent: 0, operation: { kind: 'undeploy' } });
    expect(await reconcile(f.ctx, OPTS)).toEqual({ checked: 1, busy: 0, changed: [], errors: [] });
    f.vertex.finish();
    // Act
    const summary = await reconcile(f.ctx, OPTS);
    // Assess
    expect(summary.changed).toEqual([{ model: 'digits', version: 'v1', from: 'DEPLOYED', to: 'SUPERSEDED' }]);
    expect(f.vertex.deployed('digits').map((d) => d.id)).toEqual([f.store.version('digits', 'v2').deployedModelId]);
  });
});
