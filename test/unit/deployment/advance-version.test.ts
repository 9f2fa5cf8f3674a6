import { advanceVersion } from '#shared/deployment/advance-version';
import { handleArtifactEvent, type DropConfig } from '#shared/deployment/drop-model';
import { LeaseLostError } from '#shared/deployment/ports';
import { fakeDeployment, type FakeDeployment } from '#test/support/fakes/deployment/context';
import { MODELS_BUCKET, savedModelFiles, uploadVersion } from '#test/support/fakes/deployment/saved-model-version';

const HOLDER = 'test-worker';
const DROP: DropConfig = { modelsBucket: MODELS_BUCKET, requireMarker: false, waitForUploadMs: 5_000, pollIntervalMs: 1_000 };
const NO_WAIT = { waitForUploadMs: 0, pollIntervalMs: 0 };

/** advanceVersion (REGISTERING -> DEPLOYING -> DEPLOYED, retiring and undeploying) on in-memory fakes. */
describe('advanceVersion', () => {
  let f: FakeDeployment;

  beforeEach(() => {
    f = fakeDeployment();
  });

  /** A version deployed the way model-drop deploys it, with every operation finished. */
  async function deployed(version: string, deployJson?: unknown) {
    const events = uploadVersion(f.artifacts, 'digits', version, savedModelFiles(deployJson === undefined ? {} : { deployJson }));
    expect(await handleArtifactEvent(f.ctx, DROP, events.at(-1)!)).toEqual({ outcome: 'advanced', state: 'DEPLOYED' });
    return f.store.version('digits', version);
  }

  /** A validated version waiting in REGISTERING with the lease held by HOLDER. */
  function registering(version: string, over: Record<string, unknown> = {}) {
    return f.store.seed({
      model: 'digits',
      version,
      state: 'REGISTERING',
      containerImageUri: 'us-docker.pkg.dev/vertex-ai/prediction/tf2-cpu.2-15:latest',
      serving: 'prebuilt',
      spec: { machineType: 'n1-standard-2', minReplicaCount: 1, autoscalingTargetPercent: 60, traffic: 'replace' },
      lease: { holder: HOLDER, until: new Date(f.clock.now().getTime() + 60_000).toISOString() },
      ...over,
    });
  }

  it('checks a pending UploadModel soon, then less often, starts DeployModel once it is done, and does not wait for the deploy', async () => {
    // Prepare
    f.vertex.checksBeforeDone = 3;
    const rec = registering('v1');
    // Act
    const next = await advanceVersion(f.ctx, rec, HOLDER, { waitForUploadMs: 10_000, pollIntervalMs: 200 });
    // Assess
    expect(f.clock.sleeps).toEqual([50, 100, 200]);
    expect(next).toMatchObject({ state: 'DEPLOYING', vertexModelVersionId: '1', operation: { kind: 'deploy', name: f.vertex.running('deploy')[0] } });
    expect(f.vertex.faults.count('checkDeploy')).toBe(1);
    expect(f.vertex.registry.get(f.vertex.modelName('digits'))!.versions[0]).toMatchObject({
      aliases: ['default', 'v1'],
      request: { modelId: 'digits', labels: { 'dropship-model': 'digits', 'dropship-version': 'v1' } },
    });
    expect(f.vertex.registry.get(f.vertex.modelName('digits'))!.versions[0]!.request).not.toHaveProperty('parentModel');
  });

  it('fails the version when UploadModel ends in error', async () => {
    // Prepare
    f.vertex.checksBeforeDone = 'manual';
    const rec = await advanceVersion(f.ctx, registering('v1'), HOLDER, NO_WAIT);
    f.vertex.failOperation(rec.operation!.name, 'artifact_uri has no saved_model.pb');
    // Act
    const next = await advanceVersion(f.ctx, rec, HOLDER, NO_WAIT);
    // Assess
    expect(next).toMatchObject({ state: 'FAILED', error: expect.stringMatching(/^UploadModel failed: .*no saved_model\.pb/), operation: null });
    expect(f.vertex.faults.count('startDeploy')).toBe(0);
  });

  it('does not upload again a version that a crashed attempt registered (found by its alias)', async () => {
    // Prepare: v1 deployed; v2 was uploaded, then the worker died before recording the operation
    await deployed('v1');
    const v2 = registering('v2');
    const vertexModel = f.vertex.modelName('digits');
    await f.vertex.startUpload({ ...f.vertex.registry.get(vertexModel)!.versions[0]!.request, parentModel: vertexModel, versionAlias: 'v2' });
    f.vertex.finish();
    const uploadsBefore = f.vertex.faults.count('startUpload');
    // Act
    const next = await advanceVersion(f.ctx, v2, HOLDER, NO_WAIT);
    // Assess
    expect(f.vertex.faults.count('startUpload')).toBe(uploadsBefore);
    expect(next).toMatchObject({ state: 'DEPLOYED', vertexModel, vertexModelVersionId: '2' });
  });

  it('registers a new version of the model when another worker registered its first version meanwhile', async () => {
    // Prepare: another worker's UploadModel made the Vertex model; models/{model} does not know it yet
    const v1 = registering('v1');
    const other = registering('v0');
    await f.vertex.startUpload({
      modelId: 'digits',
      displayName: 'digits',
      description: '',
      artifactUri: other.artifactUri,
      container: { imageUri: other.containerImageUri! },
      versionAlias: 'v0',
      labels: {},
    });
    f.vertex.finish();
    // Act
    const next = await advanceVersion(f.ctx, v1, HOLDER, NO_WAIT);
    // Assess
    const uploads = f.vertex.faults.calls.filter((c) => c.method === 'startUpload').map((c) => (c.args[0] as { parentModel?: string }).parentModel);
    expect(uploads).toEqual([undefined, undefined, f.vertex.modelName('digits')]);
    expect(next).toMatchObject({ state: 'DEPLOYED', vertexModel: f.vertex.modelName('digits'), vertexModelVersionId: '2' });
  });

  it('gives a canary its share beside the serving version and retires nobody', async () => {
    // Prepare
    const v1 = await deployed('v1');
    // Act
    const v2 = await deployed('v2', { traffic: 'canary:10' });
    // Assess
    const deployCall = f.vertex.faults.calls.filter((c) => c.method === 'startDeploy').at(-1)!.args[0] as { trafficSplit: Record<string, number> };
    expect(deployCall.trafficSplit).toEqual({ [v1.deployedModelId!]: 90, '0': 10 });
    expect(f.vertex.split('digits')).toEqual({ [v1.deployedModelId!]: 90, [v2.deployedModelId!]: 10 });
    expect(v2).toMatchObject({ state: 'DEPLOYED', trafficPercent: 10 });
    expect(f.store.version('digits', 'v1')).toMatchObject({ state: 'DEPLOYED', trafficPercent: 90 });
    expect(f.store.models.get('digits')).toMatchObject({ traffic: { v1: 90, v2: 10 }, previousTraffic: { v1: 100 } });
    expect(f.vertex.faults.count('startUndeploy')).toBe(0);
  });

  it('replaces: the new version takes 100%, the old one is undeployed and ends SUPERSEDED', async () => {
    // Prepare
    const v1 = await deployed('v1');
    // Act
    await deployed('v2');
    // Assess: v1 has lost its traffic and its UndeployModel is pending
    const retiring = f.store.version('digits', 'v1');
    expect(retiring).toMatchObject({ state: 'DEPLOYED', trafficPercent: 0, retireAs: 'SUPERSEDED', operation: { kind: 'undeploy' } });
    // Act: following the undeploy (the reconciler's job)
    const lease = await f.store.acquireLease('digits', 'v1', HOLDER, 60_000, f.clock.now());
    const done = await advanceVersion(f.ctx, lease!, HOLDER, NO_WAIT);
    // Assess
    expect(done).toMatchObject({ state: 'SUPERSEDED', trafficPercent: 0, operation: null });
    expect(f.vertex.deployed('digits').map((d) => d.id)).not.toContain(v1.deployedModelId);
    expect(f.events.transitions('digits', 'v1').at(-1)).toBe('DEPLOYED -> SUPERSEDED');
  });

  it('adopts a deployment a crashed attempt made instead of deploying twice', async () => {
    // Prepare: v1 is on the endpoint, but its record still says DEPLOYING without an operation
    const v1 = await deployed('v1');
    const deploysBefore = f.vertex.faults.count('startDeploy');
    f.store.seed({ ...v1, state: 'DEPLOYING', deployedModelId: undefined, operation: null, lease: { holder: HOLDER, until: new Date(f.clock.now().getTime() + 60_000).toISOString() } });
    // Act
    const next = await advanceVersion(f.ctx, f.store.version('digits', 'v1'), HOLDER, NO_WAIT);
    // Assess
    expect(f.vertex.faults.count('startDeploy')).toBe(deploysBefore);
    expect(next).toMatchObject({ state: 'DEPLOYED', deployedModelId: v1.deployedModelId });
  });

  it('fails the version when DeployModel ends in error, leaving the endpoint as it was', async () => {
    // Prepare
    f.vertex.checksBeforeDone = 'manual';
    let rec = await advanceVersion(f.ctx, registering('v1'), HOLDER, NO_WAIT);
    f.vertex.finish(rec.operation!.name);
    rec = await advanceVersion(f.ctx, rec, HOLDER, NO_WAIT);
    expect(rec).toMatchObject({ state: 'DEPLOYING', operation: { kind: 'deploy' } });
    f.vertex.failOperation(rec.operation!.name, 'quota exceeded for n1-standard-2');
    // Act
    const next = await advanceVersion(f.ctx, rec, HOLDER, NO_WAIT);
    // Assess
    expect(next).toMatchObject({ state: 'FAILED', error: expect.stringMatching(/^DeployModel failed: .*quota/) });
    expect(f.vertex.deployed('digits')).toEqual([]);
  });

  it('keeps a version deployed, with the error, when its UndeployModel fails', async () => {
    // Prepare: v2 replaced v1, whose UndeployModel then fails
    await deployed('v1');
    await deployed('v2');
    const v1 = await f.store.acquireLease('digits', 'v1', HOLDER, 60_000, f.clock.now());
    expect(v1!.operation).toMatchObject({ kind: 'undeploy' });
    f.vertex.failOperation(v1!.operation!.name, 'internal error');
    // Act
    const next = await advanceVersion(f.ctx, v1!, HOLDER, NO_WAIT);
    // Assess
    expect(next).toMatchObject({ state: 'DEPLOYED', operation: null, error: expect.stringContaining('UndeployModel failed') });
    expect(f.logs.some((l) => l.severity === 'ERROR' && l.message.startsWith('UndeployModel failed'))).toBe(true);
  });

  it('stops with LeaseLostError, changing nothing, when another worker took the version over', async () => {
    // Prepare
    const rec = registering('v1');
    f.store.seed({ ...rec, lease: { holder: 'someone-else', until: new Date(f.clock.now().getTime() + 60_000).toISOString() } });
    // Act / Assess
    await expect(advanceVersion(f.ctx, rec, HOLDER, NO_WAIT)).rejects.toBeInstanceOf(LeaseLostError);
    expect(f.store.version('digits', 'v1')).toMatchObject({ state: 'REGISTERING', lease: { holder: 'someone-else' } });
    expect(f.store.version('digits', 'v1').operation ?? null).toBeNull();
  });
});
