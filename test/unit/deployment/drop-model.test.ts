import { handleArtifactEvent, type ArtifactEvent, type DropConfig } from '#shared/deployment/drop-model';
import { fakeDeployment, type FakeDeployment } from '#test/support/fakes/deployment/context';
import { MODELS_BUCKET, savedModelFiles, uploadVersion } from '#test/support/fakes/deployment/saved-model-version';
import { invalidArgument, unavailable } from '#test/support/fakes/faults';

const CFG: DropConfig = { modelsBucket: MODELS_BUCKET, requireMarker: false, waitForUploadMs: 5_000, pollIntervalMs: 1_000 };

/** model-drop's use case on in-memory fakes of every port: its decisions, not the clouds. */
describe('handleArtifactEvent (model-drop)', () => {
  let f: FakeDeployment;
  const drop = (ev: ArtifactEvent, cfg: DropConfig = CFG) => handleArtifactEvent(f.ctx, cfg, ev);
  const states = (model: string, version: string) => f.store.version(model, version).history.map((h) => h.to);

  beforeEach(() => {
    f = fakeDeployment();
  });

  it('waits for a whole folder, then claims, validates, registers and deploys it once', async () => {
    // Act: each file lands and its event arrives before the next file lands
    const events: ArtifactEvent[] = [];
    const outcomes = [];
    for (const file of savedModelFiles()) {
      events.push(...uploadVersion(f.artifacts, 'digits', 'v1', [file]));
      outcomes.push(await drop(events.at(-1)!));
    }
    // Assess
    expect(outcomes.slice(0, -1).map((o) => o.outcome)).toEqual(['incomplete', 'incomplete']);
    expect(outcomes[0]).toEqual({ outcome: 'incomplete', missing: ['variables/variables.index', 'variables/variables.data-00000-of-NNNNN'] });
    expect(outcomes.at(-1)).toEqual({ outcome: 'advanced', state: 'DEPLOYED' });
    const rec = f.store.version('digits', 'v1');
    expect(states('digits', 'v1')).toEqual(['PENDING', 'VALIDATING', 'REGISTERING', 'DEPLOYING', 'DEPLOYED']);
    expect(rec).toMatchObject({
      claimedBy: `${MODELS_BUCKET}/${events.at(-1)!.name}#${events.at(-1)!.generation}`,
      vertexModel: f.vertex.modelName('digits'),
      vertexModelVersionId: '1',
      endpoint: `${f.vertex.parent}/endpoints/digits`,
      deployedModelId: f.vertex.deployed('digits')[0]!.id,
      trafficPercent: 100,
      serving: 'prebuilt',
      operation: null,
      lease: null,
    });
    expect(f.vertex.split('digits')).toEqual({ [rec.deployedModelId!]: 100 });
    expect(f.events.transitions('digits', 'v1')).toEqual(['PENDING -> VALIDATING', 'VALIDATING -> REGISTERING', 'REGISTERING -> DEPLOYING', 'DEPLOYING -> DEPLOYED']);
  });

  it('deploys once however often, and in whatever order, the events are delivered', async () => {
    // Prepare
    const events = uploadVersion(f.artifacts, 'digits', 'v1', savedModelFiles());
    // Act: every event three times, the completing ones at once (as concurrent instances get them)
    const first = await Promise.all([drop(events[2]!), drop(events[2]!), drop(events[1]!)]);
    const again = await Promise.all(events.flatMap((ev) => [drop(ev), drop(ev)]));
    // Assess
    expect(first.filter((o) => o.outcome === 'advanced')).toEqual([{ outcome: 'advanced', state: 'DEPLOYED' }]);
    expect(first.filter((o) => o.outcome === 'skipped')).toHaveLength(2);
    expect(again.every((o) => o.outcome === 'skipped')).toBe(true);
    expect(again[0]).toEqual({ outcome: 'skipped', why: 'version is DEPLOYED' });
    expect(f.vertex.faults.count('startUpload')).toBe(1);
    expect(f.vertex.faults.count('startDeploy')).toBe(1);
    expect(f.vertex.deployed('digits')).toHaveLength(1);
    expect(f.events.published).toHaveLength(4);
  });

  it('fails a SavedModel with the wrong signature before any Vertex AI call, and acknowledges it', async () => {
    // Prepare
    const events = uploadVersion(f.artifacts, 'digits', 'bad', savedModelFiles({ signature: 'wrong' }));
    // Act
    const outcome = await drop(events.at(-1)!);
    // Assess
    expect(outcome).toEqual({ outcome: 'advanced', state: 'FAILED' });
    const rec = f.store.version('digits', 'bad');
    expect(states('digits', 'bad')).toEqual(['PENDING', 'VALIDATING', 'FAILED']);
    expect(rec.error).toMatch(/output 'confidence'|unexpected output 'scores'/);
    expect(rec.lease).toBeNull();
    expect(f.vertex.faults.calls).toEqual([]);
    expect(f.events.transitions('digits', 'bad')).toEqual(['PENDING -> VALIDATING', 'VALIDATING -> FAILED']);
    expect(f.logs.filter((l) => l.severity === 'ERROR').map((l) => l.message)).toContain('version FAILED');
  });

  it('fails an invalid deploy.json with the schema error, before any Vertex AI call', async () => {
    // Prepare
    const events = uploadVersion(f.artifacts, 'digits', 'v1', savedModelFiles({ deployJson: { minReplicaCount: 0 } }));
    // Act
    const outcome = await drop(events.at(-1)!);
    // Assess
    expect(outcome).toEqual({ outcome: 'advanced', state: 'FAILED' });
    expect(f.store.version('digits', 'v1').error).toContain('minReplicaCount');
    expect(f.vertex.faults.calls).toEqual([]);
  });

  it('throws a transient Vertex AI failure after releasing its claim, so the redelivery resumes and deploys', async () => {
    // Prepare
    const events = uploadVersion(f.artifacts, 'digits', 'v1', savedModelFiles());
    f.vertex.faults.failAlways('startUpload', unavailable());
    // Act
    const failed = drop(events.at(-1)!);
    // Assess
    await expect(failed).rejects.toMatchObject({ code: 14 });
    expect(f.store.version('digits', 'v1')).toMatchObject({ state: 'REGISTERING', lease: null });
    expect(f.store.version('digits', 'v1').operation ?? null).toBeNull();
    expect(f.vertex.operations.size).toBe(0);
    // Act: the platform redelivers the same event once Vertex AI answers again
    f.vertex.faults.heal();
    const retried = await drop(events.at(-1)!);
    // Assess
    expect(retried).toEqual({ outcome: 'advanced', state: 'DEPLOYED' });
    expect(states('digits', 'v1')).toEqual(['PENDING', 'VALIDATING', 'REGISTERING', 'DEPLOYING', 'DEPLOYED']);
    expect(f.vertex.running()).toEqual([]);
    expect([...f.vertex.operations.values()].filter((o) => o.kind === 'upload')).toHaveLength(1);
  });

  it('throws a transient Storage failure before claiming anything', async () => {
    // Prepare
    const events = uploadVersion(f.artifacts, 'digits', 'v1', savedModelFiles());
    f.artifacts.faults.failAlways('listFolder', unavailable('storage'));
    // Act / Assess
    await expect(drop(events.at(-1)!)).rejects.toMatchObject({ code: 14 });
    expect(f.store.versions.size).toBe(0);
  });

  it('records a permanent Vertex AI refusal as FAILED and acknowledges it', async () => {
    // Prepare
    const events = uploadVersion(f.artifacts, 'digits', 'v1', savedModelFiles());
    f.vertex.faults.failNext('startDeploy', invalidArgument('machine type n1-standard-2 is not supported'));
    // Act
    const outcome = await drop(events.at(-1)!);
    // Assess
    expect(outcome).toEqual({ outcome: 'advanced', state: 'FAILED' });
    expect(f.store.version('digits', 'v1')).toMatchObject({ state: 'FAILED', error: expect.stringMatching(/^Vertex AI error: .*machine type/), lease: null });
    expect(f.vertex.deployed('digits')).toEqual([]);
  });

  it('leaves a slow UploadModel to the reconciler once its wait is over, with the operation recorded', async () => {
    // Prepare
    f.vertex.checksBeforeDone = 'manual';
    const events = uploadVersion(f.artifacts, 'digits', 'v1', savedModelFiles());
    // Act
    const outcome = await drop(events.at(-1)!, { ...CFG, waitForUploadMs: 1_000, pollIntervalMs: 400 });
    // Assess
    expect(outcome).toEqual({ outcome: 'advanced', state: 'REGISTERING' });
    const rec = f.store.version('digits', 'v1');
    expect(rec.operation).toMatchObject({ kind: 'upload', name: f.vertex.running('upload')[0] });
    expect(rec.lease).toBeNull();
    // first check soon, then doubling up to the interval, never past the wait
    expect(f.clock.sleeps).toEqual([50, 100, 200, 400]);
    // the endpoint was made while the upload ran
    expect(f.store.models.get('digits')?.endpoint).toBe(`${f.vertex.parent}/endpoints/digits`);
  });

  it('ignores deletions, other buckets and its own TF Serving copy; rejects paths outside a version folder', async () => {
    const ev = (over: Partial<ArtifactEvent>): ArtifactEvent => ({
      id: 'e1',
      type: 'google.cloud.storage.object.v1.finalized',
      bucket: MODELS_BUCKET,
      name: 'digits/v1/saved_model.pb',
      generation: '1',
      ...over,
    });
    expect(await drop(ev({ type: 'google.cloud.storage.object.v1.deleted' }))).toMatchObject({ outcome: 'ignored', why: expect.stringContaining('never undeploys') });
    expect(await drop(ev({ bucket: 'images' }))).toMatchObject({ outcome: 'ignored', why: expect.stringContaining('not the models bucket') });
    expect(await drop(ev({ name: 'digits/v1/.tf-serving/1/saved_model.pb' }))).toMatchObject({ outcome: 'ignored' });
    expect(await drop(ev({ name: 'Digits/v1/saved_model.pb' }))).toMatchObject({ outcome: 'rejected', why: expect.stringContaining("model folder 'Digits'") });
    expect(await drop(ev({ name: 'saved_model.pb' }))).toMatchObject({ outcome: 'rejected', why: expect.stringContaining('not inside a version folder') });
    expect(f.logs.filter((l) => l.message === 'artifact rejected')).toHaveLength(2);
    expect(f.store.versions.size).toBe(0);
    expect(f.artifacts.faults.calls).toEqual([]);
  });

  it('with REQUIRE_COMPLETE_MARKER, waits for _COMPLETE however complete the SavedModel looks', async () => {
    // Prepare
    const cfg = { ...CFG, requireMarker: true };
    const events = uploadVersion(f.artifacts, 'digits', 'v1', savedModelFiles());
    // Act
    const before = await drop(events.at(-1)!, cfg);
    const marker = uploadVersion(f.artifacts, 'digits', 'v1', [['_COMPLETE', Buffer.alloc(0)]]);
    const after = await drop(marker[0]!, cfg);
    // Assess
    expect(before).toEqual({ outcome: 'incomplete', missing: ['_COMPLETE'] });
    expect(after).toEqual({ outcome: 'advanced', state: 'DEPLOYED' });
  });
});
