import { helpers } from '@google-cloud/aiplatform';
import { promote } from '#shared/deployment/promote';
import { rollback } from '#shared/deployment/rollback';
import { encodeDigit, heldOutDigits } from '#local/model-build/mnist-digits';
import { deliveryOrder, demoModelFiles, seedsNote, shuffled, startDeploymentStack, waitFor, type DeploymentStack } from './deployment-stack';

const MODEL = 'mnist-vit';

describe(`a SavedModel dropped into the models bucket becomes a live endpoint (${seedsNote})`, () => {
  let stack: DeploymentStack;

  beforeAll(async () => {
    stack = await startDeploymentStack({ lroDelayMs: 500 });
    // Eventarc-like delivery: every event three times, in shuffled (seeded) order.
    stack.storageEmulator.setDelivery({ duplicates: 3, shuffle: true, seed: deliveryOrder.seed });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('deploys the demo model exactly once from a random-order upload with triple delivery; the reconciler finishes a deploy that outlives the function', async () => {
    // Prepare: a deploy operation far slower than model-drop's invocations.
    stack.vertexEmulator.setFaults({ operationDelayMs: { deployModel: 4000 } });

    // Act
    const lastLanded = await stack.upload(MODEL, 'v1', shuffled(demoModelFiles()));
    await stack.storageEmulator.idle();

    // Assess: every model-drop invocation has returned, DeployModel is still running.
    const waiting = await stack.version(MODEL, 'v1');
    expect(waiting).toMatchObject({ state: 'DEPLOYING', operation: { kind: 'deploy' } });
    const deployIssued = Date.parse(waiting!.history.find((h) => h.to === 'DEPLOYING')!.at);
    process.stdout.write(`[measure] last artifact landed -> DeployModel issued: ${((deployIssued - lastLanded) / 1000).toFixed(2)} s\n`);

    // Act: Cloud Scheduler ticks the reconciler.
    stack.startTicking();
    const deployed = await stack.waitForState(MODEL, 'v1', ['DEPLOYED']);

    // Assess: state and history
    expect(deployed.history.map((h) => h.to)).toEqual(['PENDING', 'VALIDATING', 'REGISTERING', 'DEPLOYING', 'DEPLOYED']);
    expect(deployed).toMatchObject({ trafficPercent: 100, versionAlias: 'v1', vertexModelVersionId: '1', operation: null });
    const modelDoc = (await stack.firestore.doc(`models/${MODEL}`).get()).data();
    expect(modelDoc).toMatchObject({ endpoint: deployed.endpoint, vertexModel: deployed.vertexModel, traffic: { v1: 100 } });

    // Assess: exactly one model version, one endpoint, one deployed model in Vertex AI
    const vertexModels = await stack.vertexModelsNamed(MODEL);
    expect(vertexModels).toHaveLength(1);
    const [versions] = await stack.models.listModelVersions({ name: deployed.vertexModel });
    expect(versions).toHaveLength(1);
    expect(versions[0]!.labels).toMatchObject({ 'dropship-model': MODEL, 'dropship-version': 'v1' });
    expect(versions[0]!.artifactUri).toBe(`gs://models/${MODEL}/v1/`);
    const [endpoints] = await stack.endpoints.listEndpoints({ parent: stack.parent });
    expect(endpoints).toHaveLength(1);
    expect(endpoints[0]!.deployedModels).toHaveLength(1);
    expect(endpoints[0]!.trafficSplit).toEqual({ [deployed.deployedModelId!]: 100 });

    // Assess: it serves predictions
    const digits = heldOutDigits().filter((_, i) => i % 150 === 0);
    const instances = await Promise.all(digits.map(async (d) => helpers.toValue({ string_input: { b64: (await encodeDigit(d.pixels, 'png')).toString('base64') } })!));
    const [response] = await stack.prediction.predict({ endpoint: deployed.endpoint, instances });
    const labels = (response.predictions ?? []).map((p) => (helpers.fromValue(p as never) as { label: string }).label);
    expect(response.deployedModelId).toBe(deployed.deployedModelId);
    expect(labels.filter((l, i) => l === String(digits[i]!.label)).length).toBeGreaterThanOrEqual(7);

    // Assess: one model-events message per transition
    await waitFor(() => stack.modelEvents.filter((e) => e.model === MODEL && e.version === 'v1').length >= 4);
    expect(stack.modelEvents.filter((e) => e.model === MODEL && e.version === 'v1').map((e) => e.state)).toEqual(['VALIDATING', 'REGISTERING', 'DEPLOYING', 'DEPLOYED']);
  });

  it('a canary:10 version gets 10% despite injected UNAVAILABLE/RESOURCE_EXHAUSTED; promote gives it 100% and undeploys v1; rollback restores the split', async () => {
    // Prepare: a third of Vertex management calls fail transiently.
    stack.vertexEmulator.setFaults({ managementErrorRate: 0.3 });
    const files = demoModelFiles();

    // Act: deploy.json first, then the SavedModel in random order.
    await stack.upload(MODEL, 'v2', [['deploy.json', JSON.stringify({ traffic: 'canary:10', minReplicaCount: 1, maxReplicaCount: 2 })], ...shuffled(files)]);
    const v2 = await stack.waitForState(MODEL, 'v2', ['DEPLOYED', 'FAILED']);
    stack.vertexEmulator.setFaults({});
    // the worker that deployed v2 is done with it (its retire step included), so the promote
    // below is the only one that can retire v1
    await stack.storageEmulator.idle();
    await waitFor(async () => (await stack.version(MODEL, 'v2'))?.lease == null, 20_000, 'the worker that deployed v2 to release its lease');

    // Assess
    expect(v2).toMatchObject({ state: 'DEPLOYED', traffic: 'canary:10', trafficPercent: 10, vertexModelVersionId: '2' });
    const v1 = await stack.version(MODEL, 'v1');
    expect(v1).toMatchObject({ state: 'DEPLOYED', trafficPercent: 90 });
    const [endpoint] = await stack.endpoints.getEndpoint({ name: v2.endpoint! });
    expect(endpoint.trafficSplit).toEqual({ [v1!.deployedModelId!]: 90, [v2.deployedModelId!]: 10 });
    expect(await stack.vertexModelsNamed(MODEL)).toHaveLength(1);

    // Act: promote
    const promoted = await promote(stack.ctx, MODEL, 'v2', { waitMs: 20_000 });

    // Assess: promote retired v1 itself (nobody else was working on the model)
    expect(promoted.traffic).toEqual({ v2: 100 });
    expect(promoted.retiring).toEqual(['v1']);
    expect(await stack.version(MODEL, 'v1')).toMatchObject({ state: 'SUPERSEDED', trafficPercent: 0 });
    const [afterPromote] = await stack.endpoints.getEndpoint({ name: v2.endpoint! });
    expect(afterPromote.deployedModels!.map((d) => d.id)).toEqual([v2.deployedModelId]);
    expect(afterPromote.trafficSplit).toEqual({ [v2.deployedModelId!]: 100 });

    // Act: roll back to the split before the promotion
    const rolled = await rollback(stack.ctx, MODEL, undefined, { waitMs: 20_000 });

    // Assess
    expect(rolled.redeploying).toBe('v1');
    const v1Again = await stack.waitForState(MODEL, 'v1', ['DEPLOYED']);
    expect(v1Again.history.map((h) => h.to).slice(-3)).toEqual(['SUPERSEDED', 'DEPLOYING', 'DEPLOYED']);
    const [afterRollback] = await stack.endpoints.getEndpoint({ name: v2.endpoint! });
    expect(afterRollback.trafficSplit).toEqual({ [v1Again.deployedModelId!]: 90, [v2.deployedModelId!]: 10 });
    expect((await stack.firestore.doc(`models/${MODEL}`).get()).data()).toMatchObject({ traffic: { v1: 90, v2: 10 }, previousTraffic: { v2: 100 } });
    const [endpoints] = await stack.endpoints.listEndpoints({ parent: stack.parent });
    expect(endpoints).toHaveLength(1);
  });
});
