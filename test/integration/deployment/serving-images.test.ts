import { sharedFixture, folderFiles } from '../../support/shared-fixtures';
import { demoModelFiles, shuffled, startDeploymentStack, waitFor, type DeploymentStack } from './deployment-stack';

const TF_SERVING_IMAGE = 'us-central1-docker.pkg.dev/demo/dockerhub-mirror/tensorflow/serving:2.19.1';

/**
 * Through model-drop and the reconciler on the Storage, Firestore and Vertex AI emulators:
 * a SavedModel TensorFlow wrote, a deploy.json Vertex AI's machine rules refuse, and a version
 * served on TensorFlow Serving (the custom container dropship defaults to after 2027-01-14).
 */
describe('serving images and machine rules through the pipeline', () => {
  let stack: DeploymentStack;

  beforeAll(async () => {
    // model-drop reads its env on its first event; the stack's terraform would set this one
    process.env.TF_SERVING_IMAGE = TF_SERVING_IMAGE;
    stack = await startDeploymentStack({ lroDelayMs: 300 });
    stack.startTicking();
  });
  afterAll(async () => {
    await stack?.stop();
    delete process.env.TF_SERVING_IMAGE;
  });

  it("TensorFlow's own half_plus_two SavedModel ends FAILED on its signature (x float, y), not on parsing", async () => {
    // Prepare: the folder as TensorFlow Serving's repository ships it, read from ../shared/fixtures/
    const files = folderFiles(sharedFixture('tf-saved-model-half-plus-two'));
    expect(files.map(([p]) => p)).toEqual(['assets/foo.txt', 'saved_model.pb', 'variables/variables.data-00000-of-00001', 'variables/variables.index']);

    // Act
    await stack.upload('half-plus-two', 'v1', shuffled(files));
    const failed = await stack.waitForState('half-plus-two', 'v1', ['FAILED', 'DEPLOYED']);

    // Assess
    expect(failed.state).toBe('FAILED');
    expect(failed.history.map((h) => h.to)).toEqual(['PENDING', 'VALIDATING', 'FAILED']);
    expect(failed.error).toContain("the SavedModel's serving signature does not match the contract");
    expect(failed.error).toContain("input 'string_input' is missing (the signature's inputs are 'x')");
    expect(failed.error).toContain("unexpected input 'x' (DT_FLOAT [-1, 1])");
    expect(failed.error).toContain("output 'confidence' is missing (the signature's outputs are 'y')");
    expect(failed.error).toContain("output 'label' is missing");
    expect(failed.error).not.toMatch(/not a readable SavedModel|does not parse/);
    expect(await stack.vertexModelsNamed('half-plus-two')).toHaveLength(0);
  });

  it('a deploy.json Vertex AI would refuse (a2-highgpu-1g with a T4) ends FAILED in VALIDATING, before any Vertex call', async () => {
    // Act: deploy.json first, as a spec must land before the folder is complete
    const spec = JSON.stringify({ machineType: 'a2-highgpu-1g', acceleratorType: 'NVIDIA_TESLA_T4', acceleratorCount: 1 });
    await stack.upload('wrong-gpu', 'v1', [['deploy.json', spec], ...shuffled(demoModelFiles())]);
    const failed = await stack.waitForState('wrong-gpu', 'v1', ['FAILED', 'DEPLOYED']);

    // Assess
    expect(failed.state).toBe('FAILED');
    expect(failed.history.map((h) => h.to)).toEqual(['PENDING', 'VALIDATING', 'FAILED']);
    expect(failed.error).toContain('acceleratorType NVIDIA_TESLA_T4 does not go with a2-highgpu-1g, which comes with NVIDIA_TESLA_A100');
    expect(await stack.vertexModelsNamed('wrong-gpu')).toHaveLength(0);
  });

  it('"serving": "tf-serving" copies the SavedModel to .tf-serving/1/ and uploads it with the TF Serving containerSpec', async () => {
    // Prepare: deploy.json, then the files beside the SavedModel, then the SavedModel, which completes the folder
    const files = demoModelFiles();
    const isSavedModel = (p: string) => p === 'saved_model.pb' || p.startsWith('variables/');
    const extras = files.filter(([p]) => !isSavedModel(p));
    const savedModel = files.filter(([p]) => isSavedModel(p));

    // Act
    await stack.upload('on-tfs', 'v1', [['deploy.json', '{"serving": "tf-serving"}'], ...extras, ...shuffled(savedModel)]);
    const deployed = await stack.waitForState('on-tfs', 'v1', ['FAILED', 'DEPLOYED']);

    // Assess: the record
    expect(deployed).toMatchObject({
      state: 'DEPLOYED',
      serving: 'tf-serving',
      containerImageUri: TF_SERVING_IMAGE,
      artifactUri: 'gs://models/on-tfs/v1/.tf-serving/',
    });
    // the copy TF Serving reads: every SavedModel file under 1/, deploy.json left out
    const [copied] = await stack.storage.bucket('models').getFiles({ prefix: 'on-tfs/v1/.tf-serving/' });
    const copiedPaths = copied.map((f) => f.name.slice('on-tfs/v1/.tf-serving/1/'.length)).sort();
    const modelPaths = demoModelFiles()
      .map(([p]) => p)
      .sort();
    expect(copiedPaths).toEqual(modelPaths);
    expect(copied.every((f) => f.name.startsWith('on-tfs/v1/.tf-serving/1/'))).toBe(true);
    // the Vertex model carries what a custom container needs
    const [model] = await stack.vertexModelsNamed('on-tfs');
    expect(model?.artifactUri).toBe('gs://models/on-tfs/v1/.tf-serving/');
    expect(model?.containerSpec).toMatchObject({
      imageUri: TF_SERVING_IMAGE,
      command: ['/usr/bin/tensorflow_model_server'],
      args: expect.arrayContaining(['--model_name=on-tfs', '--model_base_path=$(AIP_STORAGE_URI)', '--rest_api_port=8501']),
      ports: [expect.objectContaining({ containerPort: 8501 })],
      predictRoute: '/v1/models/on-tfs:predict',
      healthRoute: '/v1/models/on-tfs',
    });
    // the copy's own finalize events were ignored: still one version, deployed once
    await stack.storageEmulator.idle();
    await waitFor(() => stack.modelEvents.some((e) => e.model === 'on-tfs' && e.state === 'DEPLOYED'));
    expect(stack.modelEvents.filter((e) => e.model === 'on-tfs' && e.state === 'DEPLOYED')).toHaveLength(1);
    expect((await stack.version('on-tfs', 'v1'))!.history.map((h) => h.to)).toEqual(['PENDING', 'VALIDATING', 'REGISTERING', 'DEPLOYING', 'DEPLOYED']);
    expect(await stack.vertexModelsNamed('on-tfs')).toHaveLength(1);
  });

  it('a version without deploy.json today gets the prebuilt image for its TF version, with its end date recorded', async () => {
    // Act
    await stack.upload('on-prebuilt', 'v1', shuffled(demoModelFiles()));
    const deployed = await stack.waitForState('on-prebuilt', 'v1', ['FAILED', 'DEPLOYED']);

    // Assess (the test runs on the real clock: before 2027-01-14 prebuilt, after it TF Serving)
    const beforeEnd = Date.now() < Date.parse('2027-01-14T00:00:00Z');
    expect(deployed.state).toBe('DEPLOYED');
    if (beforeEnd) {
      expect(deployed).toMatchObject({ serving: 'prebuilt', imageAvailableUntil: '2027-01-14', artifactUri: 'gs://models/on-prebuilt/v1/' });
      expect(deployed.containerImageUri).toMatch(/^us-docker\.pkg\.dev\/vertex-ai\/prediction\/tf2-cpu\.2-1[45]:latest$/);
    } else {
      expect(deployed).toMatchObject({ serving: 'tf-serving', containerImageUri: TF_SERVING_IMAGE, artifactUri: 'gs://models/on-prebuilt/v1/.tf-serving/' });
    }
  });
});
