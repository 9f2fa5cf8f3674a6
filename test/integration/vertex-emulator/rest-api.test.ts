import { encodeDigit, heldOutDigits } from '#local/model-build/mnist-digits';
import { DEMO_MODEL_DIR, imageInstance, predictionsOf, startHarness, TF_IMAGE, type Harness } from './harness';

/**
 * The v1 REST surface with plain fetch, as curl or any REST client sends it: routes, bodies
 * and query parameters transcoded from the protos' google.api.http rules, answered by the same
 * handlers as gRPC (checked against the official Node client over gRPC), errors as
 * google.rpc.Status with Google's HTTP codes.
 */
describe('Vertex AI emulator: REST API (HTTP/JSON transcoding)', () => {
  let h: Harness;
  let base: string;
  type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

  async function rest(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: Json; headers: Headers }> {
    const res = await fetch(`${base}/v1/${path}`, {
      method,
      headers: { authorization: 'Bearer any-token-at-all', ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, json: text ? (JSON.parse(text) as Json) : {}, headers: res.headers };
  }

  /** Waits for an operation with WaitOperation (POST {name}:wait, a Duration in JSON), then reads it with GetOperation. */
  async function finished(op: Json): Promise<Json> {
    expect(op.name).toMatch(/\/operations\/\d+$/);
    const waited = await rest('POST', `${op.name}:wait`, { timeout: '10s' });
    expect(waited.status).toBe(200);
    expect(waited.json.done).toBe(true);
    const got = await rest('GET', op.name);
    expect(got.json).toEqual(waited.json);
    return got.json;
  }

  beforeAll(async () => {
    h = await startHarness({ restPort: 0 });
    base = `http://127.0.0.1:${h.emulator.restPort}`;
  });
  afterAll(async () => {
    await h?.close();
  });

  let model: string;
  let endpoint: string;
  let deployedModelId: string;

  it('uploads a model: a long-running Operation whose metadata and response are Any with @type; int64 as strings, enums by name', async () => {
    const upload = await rest('POST', `${h.parent}/models:upload`, {
      model: { displayName: 'rest-mnist', artifactUri: DEMO_MODEL_DIR, containerSpec: { imageUri: TF_IMAGE, sharedMemorySizeMb: '256' }, labels: { via: 'rest' } },
    });
    expect(upload.status).toBe(200);
    expect(upload.json.metadata['@type']).toBe('type.googleapis.com/google.cloud.aiplatform.v1.UploadModelOperationMetadata');
    expect(upload.json.metadata.genericMetadata.createTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    const op = await finished(upload.json);
    expect(op.response).toMatchObject({ '@type': 'type.googleapis.com/google.cloud.aiplatform.v1.UploadModelResponse', modelVersionId: '1' });
    model = op.response.model as string;

    const got = await rest('GET', model);
    expect(got.status).toBe(200);
    expect(got.json).toMatchObject({
      name: model,
      displayName: 'rest-mnist',
      versionId: '1',
      versionAliases: ['default'],
      labels: { via: 'rest' },
      containerSpec: { imageUri: TF_IMAGE, sharedMemorySizeMb: '256' },
      supportedDeploymentResourcesTypes: ['DEDICATED_RESOURCES'],
    });
    expect(got.json).not.toHaveProperty('description'); // empty: left out, as proto3 JSON does
    const [viaGrpc] = await h.clients.models.getModel({ name: model });
    expect(viaGrpc.displayName).toBe('rest-mnist');
    expect(String(viaGrpc.containerSpec?.sharedMemorySizeMb)).toBe('256');
  });

  it('lists with query parameters: pageSize and pageToken, filter, alt=json', async () => {
    const second = await rest('POST', `${h.parent}/models:upload`, { model: { displayName: 'rest-other', artifactUri: DEMO_MODEL_DIR } });
    await finished(second.json);
    const page1 = await rest('GET', `${h.parent}/models?pageSize=1&alt=json`);
    expect(page1.status).toBe(200);
    expect(page1.json.models).toHaveLength(1);
    expect(page1.json.nextPageToken).toEqual(expect.any(String));
    const page2 = await rest('GET', `${h.parent}/models?pageSize=1&pageToken=${encodeURIComponent(page1.json.nextPageToken as string)}`);
    expect(page2.json.models).toHaveLength(1);
    expect(page2.json).not.toHaveProperty('nextPageToken');
    expect(new Set([page1.json.models[0].displayName, page2.json.models[0].displayName])).toEqual(new Set(['rest-mnist', 'rest-other']));
    const filtered = await rest('GET', `${h.parent}/models?filter=${encodeURIComponent('display_name="rest-other"')}`);
    expect(filtered.json.models.map((m: Json) => m.displayName)).toEqual(['rest-other']);
  });

  it('creates an endpoint (body: the endpoint; endpointId from the query), deploys (custom verb) and predicts with any Bearer token', async () => {
    const created = await rest('POST', `${h.parent}/endpoints?endpointId=rest-ep`, { displayName: 'rest-endpoint' });
    expect(created.status).toBe(200);
    const op = await finished(created.json);
    endpoint = op.response.name as string;
    expect(endpoint).toBe(`${h.parent}/endpoints/rest-ep`);
    expect(op.response['@type']).toBe('type.googleapis.com/google.cloud.aiplatform.v1.Endpoint');

    const deploy = await rest('POST', `${endpoint}:deployModel`, {
      deployedModel: { model, displayName: 'rest-dm', dedicatedResources: { machineSpec: { machineType: 'n1-standard-4' }, minReplicaCount: 1, maxReplicaCount: 1 } },
      trafficSplit: { '0': 100 },
    });
    expect(deploy.status).toBe(200);
    const deployed = await finished(deploy.json);
    deployedModelId = deployed.response.deployedModel.id as string;
    expect(deployedModelId).toMatch(/^\d+$/);
    const ep = await rest('GET', endpoint);
    expect(ep.json.trafficSplit).toEqual({ [deployedModelId]: 100 });
    expect(ep.json.deployedModels[0]).toMatchObject({ id: deployedModelId, model, modelVersionId: '1', dedicatedResources: { minReplicaCount: 1 } });

    const digit = heldOutDigits()[321];
    const png = await encodeDigit(digit.pixels, 'png');
    const instance = { string_input: { b64: png.toString('base64') } };
    const predicted = await rest('POST', `${endpoint}:predict`, { instances: [instance] });
    expect(predicted.status).toBe(200);
    expect(predicted.json).toMatchObject({ deployedModelId, model, modelVersionId: '1', modelDisplayName: 'rest-mnist' });
    const [viaGrpc] = await h.clients.predictions.predict({ endpoint, instances: [imageInstance(png)] });
    expect(predicted.json.predictions).toEqual(predictionsOf(viaGrpc));
    expect(predicted.json.predictions[0].label).toBe(String(digit.label));

    const raw = await fetch(`${base}/v1/${endpoint}:rawPredict`, {
      method: 'POST',
      headers: { authorization: 'Bearer x', 'content-type': 'application/json' },
      body: JSON.stringify({ instances: [instance] }),
    });
    expect(raw.status).toBe(200);
    expect(raw.headers.get('x-vertex-ai-deployed-model-id')).toBe(deployedModelId);
    expect(((await raw.json()) as Json).predictions).toEqual(predicted.json.predictions);
  });

  it('updates with PATCH, a body field and an updateMask in the query', async () => {
    const patched = await rest('PATCH', `${endpoint}?updateMask=displayName,labels`, { displayName: 'renamed', labels: { env: 'test' } });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ name: endpoint, displayName: 'renamed', labels: { env: 'test' } });
    const [viaGrpc] = await h.clients.endpoints.getEndpoint({ name: endpoint });
    expect(viaGrpc.displayName).toBe('renamed');
  });

  it('serves operations by their full name, by projects/P/locations/L/operations/ID, and lists them per location', async () => {
    const undeploy = await rest('POST', `${endpoint}:undeployModel`, { deployedModelId });
    expect(undeploy.status).toBe(200);
    const id = (undeploy.json.name as string).split('/').pop()!;
    const short = await rest('GET', `${h.parent}/operations/${id}`);
    expect(short.status).toBe(200);
    expect(short.json.name).toBe(undeploy.json.name);
    const done = await finished(undeploy.json);
    expect(done.response['@type']).toBe('type.googleapis.com/google.cloud.aiplatform.v1.UndeployModelResponse');
    const listed = await rest('GET', `${h.parent}/operations?pageSize=100`);
    expect(listed.json.operations.map((o: Json) => o.name)).toContain(undeploy.json.name);
    expect((await rest('GET', endpoint)).json).not.toHaveProperty('deployedModels');
  });

  it.each([
    ['NOT_FOUND', 404, 'GET', () => `${h.parent}/models/404404`, undefined, 'was not found'],
    ['NOT_FOUND (operation)', 404, 'GET', () => `${h.parent}/operations/1234`, undefined, 'was not found'],
    ['INVALID_ARGUMENT (unknown body field)', 400, 'POST', () => `${h.parent}/models:upload`, { model: { displayName: 'x', colour: 'red' } }, 'Unknown name "colour"'],
    ['INVALID_ARGUMENT (handler)', 400, 'POST', () => `${h.parent}/models:upload`, { model: {} }, 'model.displayName is required'],
    ['INVALID_ARGUMENT (bad query value)', 400, 'GET', () => `${h.parent}/models?pageSize=lots`, undefined, "Invalid value at 'pageSize'"],
    [
      'INVALID_ARGUMENT (predict payload over 1.5 MB)',
      400,
      'POST',
      () => `${endpoint}:predict`,
      { instances: [{ string_input: { b64: 'A'.repeat(1_600_000) } }] },
      'Request payload size exceeds the limit',
    ],
    ['FAILED_PRECONDITION', 400, 'POST', () => `${endpoint}:predict`, { instances: [{ string_input: { b64: 'AAAA' } }] }, 'has no deployed model'],
    ['ALREADY_EXISTS', 409, 'POST', () => `${h.parent}/endpoints?endpointId=rest-ep`, { displayName: 'again' }, 'already exists'],
    ['UNIMPLEMENTED', 501, 'POST', () => `${model}:export`, { outputConfig: {} }, 'not implemented'],
  ])('answers %s as {"error": {code, message, status}} with HTTP %d', async (statusName, code, method, path, body, message) => {
    const res = await rest(method, path(), body);
    expect(res.status).toBe(code);
    expect(res.json).toEqual({ error: { code, message: expect.stringContaining(message), status: statusName.split(' ')[0] } });
  });

  it('answers a path that is no route with 404 NOT_FOUND, and a wrong HTTP method with the ones it takes', async () => {
    const none = await rest('GET', `${h.parent}/gadgets`);
    expect(none.status).toBe(404);
    expect(none.json.error.status).toBe('NOT_FOUND');
    const wrong = await rest('PUT', `${h.parent}/models`);
    expect(wrong.status).toBe(404);
    expect(wrong.json.error.message).toContain('it takes GET');
  });
});
