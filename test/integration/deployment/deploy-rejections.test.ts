import { writeSavedModel } from '#local/savedmodel/write-saved-model';
import { demoModelFiles, shuffled, startDeploymentStack, waitFor, type DeploymentStack } from './deployment-stack';

describe('incomplete and bad versions never reach Vertex AI', () => {
  let stack: DeploymentStack;

  beforeAll(async () => {
    stack = await startDeploymentStack({ lroDelayMs: 300 });
    stack.startTicking();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('a partial upload (no variables shard) does not deploy until the shard lands', async () => {
    // Prepare
    const files = demoModelFiles();
    const shard = files.filter(([p]) => p.startsWith('variables/variables.data-'));
    const rest = files.filter(([p]) => !p.startsWith('variables/variables.data-'));

    // Act
    await stack.upload('partial', 'v1', shuffled(rest));
    await stack.storageEmulator.idle();

    // Assess
    expect(await stack.version('partial', 'v1')).toBeUndefined();
    expect(await stack.vertexModelsNamed('partial')).toHaveLength(0);

    // Act
    await stack.upload('partial', 'v1', shard);
    const deployed = await stack.waitForState('partial', 'v1', ['DEPLOYED', 'FAILED']);

    // Assess
    expect(deployed.state).toBe('DEPLOYED');
    expect(await stack.vertexModelsNamed('partial')).toHaveLength(1);
  });

  const badSignature = writeSavedModel({
    tensorflowVersion: '2.15.0',
    signatures: {
      serving_default: {
        inputs: { string_input: { dtype: 'DT_STRING', shape: [-1] } },
        outputs: { confidence: { dtype: 'DT_FLOAT', shape: [-1] }, label: { dtype: 'DT_INT64', shape: [-1] } },
      },
    },
  });

  it.each([
    ['corrupt', { 'saved_model.pb': Buffer.from('this is not a protobuf \u0000\u00ff\u00fe') }, 'saved_model.pb is not a readable SavedModel'],
    ['wrong-signature', { 'saved_model.pb': Buffer.from(badSignature) }, "output 'label' has dtype DT_INT64, expected DT_STRING"],
    ['bad-spec', { 'deploy.json': '{"traffic": "canary:150", "minReplicaCount": 0}' }, 'deploy.json is invalid: minReplicaCount: minReplicaCount must be at least 1'],
  ])('%s ends FAILED with a precise reason and no Vertex model', async (model, replace, reason) => {
    // Prepare: the demo model with one file replaced (deploy.json lands first, as a spec must)
    const overrides = Object.entries(replace) as Array<[string, Buffer | string]>;
    const files = demoModelFiles().filter(([p]) => !(p in replace));

    // Act
    await stack.upload(model, 'v1', [...overrides.filter(([p]) => p === 'deploy.json'), ...shuffled([...files, ...overrides.filter(([p]) => p !== 'deploy.json')])]);
    const failed = await stack.waitForState(model, 'v1', ['FAILED', 'DEPLOYED']);

    // Assess
    expect(failed.state).toBe('FAILED');
    expect(failed.error).toContain(reason);
    expect(failed.history.map((h) => h.to)).toEqual(['PENDING', 'VALIDATING', 'FAILED']);
    expect(await stack.vertexModelsNamed(model)).toHaveLength(0);
    await stack.storageEmulator.idle();
    await waitFor(() => stack.modelEvents.some((e) => e.model === model && e.state === 'FAILED'));
    expect(stack.modelEvents.filter((e) => e.model === model && e.state === 'FAILED')).toEqual([expect.objectContaining({ reason: failed.error })]);
  });
});
