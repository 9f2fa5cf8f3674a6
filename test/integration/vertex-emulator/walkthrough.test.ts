import { encodeDigit, heldOutDigits } from '#local/model-build/mnist-digits';
import { createEndpoint, DEDICATED, DEMO_MODEL_DIR, imageInstance, predictionsOf, startHarness, TF_IMAGE, type Harness } from './harness';

/**
 * The four steps of the original deployment walkthrough, with the official client over gRPC:
 * upload the demo model, create an endpoint, deploy it with trafficSplit {"0": 100} on
 * n1-standard-8 (1..1 replicas), predict a held-out digit sent as a base64 JPEG.
 */
describe('Vertex AI emulator: the deployment walkthrough', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('uploads, creates an endpoint, deploys, and predicts the right digit in the real response shape', async () => {
    const { models, endpoints, predictions } = h.clients;

    // 1. Upload the model.
    const [uploadOp] = await models.uploadModel({
      parent: h.parent,
      model: { displayName: 'mnist-vit', artifactUri: DEMO_MODEL_DIR, containerSpec: { imageUri: TF_IMAGE }, labels: { team: 'vision' } },
    });
    expect(uploadOp.name).toMatch(new RegExp(`^${h.parent}/models/\\d+/operations/\\d+$`));
    const [uploaded] = await uploadOp.promise();
    expect(uploaded.modelVersionId).toBe('1');
    const [model] = await models.getModel({ name: uploaded.model! });
    expect(model).toMatchObject({ displayName: 'mnist-vit', artifactUri: DEMO_MODEL_DIR, versionId: '1', versionAliases: ['default'], labels: { team: 'vision' } });
    expect(model.containerSpec?.imageUri).toBe(TF_IMAGE);

    // 2. Create an endpoint.
    const endpointName = await createEndpoint(h.clients, h.parent, 'mnist-endpoint');

    // 3. Deploy with all traffic and dedicated resources.
    const [deployOp] = await endpoints.deployModel({
      endpoint: endpointName,
      deployedModel: { model: uploaded.model, displayName: 'mnist-vit-v1', dedicatedResources: DEDICATED },
      trafficSplit: { '0': 100 },
    });
    const [deployed] = await deployOp.promise();
    const deployedModelId = deployed.deployedModel!.id!;
    expect(deployedModelId).toMatch(/^\d+$/);
    const [endpoint] = await endpoints.getEndpoint({ name: endpointName });
    expect(endpoint.trafficSplit).toEqual({ [deployedModelId]: 100 });
    expect(endpoint.deployedModels![0]).toMatchObject({
      id: deployedModelId,
      model: uploaded.model,
      modelVersionId: '1',
      dedicatedResources: { machineSpec: { machineType: 'n1-standard-8' }, minReplicaCount: 1, maxReplicaCount: 1 },
    });

    // 4. Predict a held-out digit, sent as a base64 JPEG.
    const digits = heldOutDigits();
    const seven = digits.find((d) => d.label === 7)!;
    const jpeg = await encodeDigit(seven.pixels, 'jpeg');
    const [response] = await predictions.predict({ endpoint: endpointName, instances: [imageInstance(jpeg)] });
    expect(response).toMatchObject({ deployedModelId, model: uploaded.model, modelVersionId: '1', modelDisplayName: 'mnist-vit' });
    const [prediction] = predictionsOf(response);
    expect(Object.keys(prediction).sort()).toEqual(['confidence', 'label']);
    expect(prediction.label).toBe('7');
    expect(prediction.confidence).toBeGreaterThan(0.5);
    expect(prediction.confidence).toBeLessThanOrEqual(1);
  });

  it('labels a batch of held-out digits, one prediction per instance in order, as accurately as the model is', async () => {
    const [list] = await h.clients.endpoints.listEndpoints({ parent: h.parent, filter: 'display_name="mnist-endpoint"' });
    expect(list).toHaveLength(1);
    const digits = heldOutDigits().filter((_, i) => i % 50 === 0); // 30 digits, every label
    const images = await Promise.all(digits.map((d) => encodeDigit(d.pixels, 'jpeg', { size: 112 })));
    const [response] = await h.clients.predictions.predict({ endpoint: list[0].name!, instances: images.map(imageInstance) });
    const got = predictionsOf(response);
    expect(got).toHaveLength(digits.length);
    const correct = got.filter((p, i) => p.label === String(digits[i].label)).length;
    expect(correct / digits.length).toBeGreaterThanOrEqual(0.9);
  });
});
