import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Storage } from '@google-cloud/storage';
import { silentLogger } from '#shared/logging/logger';
import { startStorageEmulator, type StorageEmulator } from '#local/storage-emulator/start';
import { GcloudCli, gcloudAvailable } from '#test/support/gcloud-cli';
import { encodeDigit, heldOutDigits } from '#local/model-build/mnist-digits';
import { DEMO_MODEL_DIR, imageInstance, LOCATION, predictionsOf, startHarness, TF_IMAGE, type Harness } from '../vertex-emulator/harness';

/**
 * The Vertex AI emulator driven by the Google Cloud CLI as a user would: `gcloud ai` over REST
 * (CLOUDSDK_API_ENDPOINT_OVERRIDES_AIPLATFORM, a fake token), waiting on every long-running
 * operation the way gcloud does (polling GET /v1 or /v1beta1/{operation name}). The model is
 * uploaded to the Storage emulator with the Node client and given to gcloud as a gs:// URI;
 * the Vertex AI emulator finds it in the Storage emulator's folder, as in the local stack.
 */
const HAVE_GCLOUD = gcloudAvailable();
if (!HAVE_GCLOUD) {
  // eslint-disable-next-line no-console
  console.warn('SKIPPED test/integration/real-clients/gcloud-ai.test.ts: gcloud is not installed (the Google Cloud CLI drives these tests)');
}
const describeWithGcloud = HAVE_GCLOUD ? describe : describe.skip;

const BUCKET = 'gcloud-ai-models';
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describeWithGcloud(`gcloud ai against the Vertex AI emulator${HAVE_GCLOUD ? '' : ' (SKIPPED: gcloud is not installed)'}`, () => {
  let work: string;
  let storage: StorageEmulator;
  let h: Harness;
  let gcloud: GcloudCli;
  let project: string;
  const region = `--region=${LOCATION}`;
  const json = async (args: string[]): Promise<Json> => JSON.parse(await gcloud.ok([...args, region, '--format=json'])) as Json;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'gcloud-ai-'));
    const gcsRoot = join(work, 'storage');
    storage = await startStorageEmulator({ dataDir: gcsRoot, logger: silentLogger });
    h = await startHarness({ restPort: 0, gcsRoot });
    project = h.parent.split('/')[1];
    // Stage the demo model in the Storage emulator as a user would with any client.
    const gcs = new Storage({ apiEndpoint: storage.url, projectId: project });
    await gcs.createBucket(BUCKET);
    for (const file of await readdir(DEMO_MODEL_DIR, { recursive: true, withFileTypes: true })) {
      if (!file.isFile()) continue;
      const path = join(file.parentPath, file.name);
      await gcs.bucket(BUCKET).upload(path, { destination: `mnist-vit/${relative(DEMO_MODEL_DIR, path)}` });
    }
    gcloud = new GcloudCli({ project, aiplatform: `http://127.0.0.1:${h.emulator.restPort}/` });
  });
  afterAll(async () => {
    gcloud?.dispose();
    await h?.close();
    await storage?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  let modelId: string;
  let uploadOperationId: string;
  let endpointId: string;
  let deployedModelId: string;

  it('models upload (gs:// artifact in the Storage emulator), list and describe', async () => {
    const up = await gcloud.run(['ai', 'models', 'upload', region, '--display-name=mnist-gcloud', `--container-image-uri=${TF_IMAGE}`, `--artifact-uri=gs://${BUCKET}/mnist-vit`]);
    expect(up.stderr).toContain('done');
    expect(up.code).toBe(0);
    uploadOperationId = /Waiting for operation \[(\d+)\]/.exec(up.stderr)![1];

    const models = (await json(['ai', 'models', 'list'])) as unknown as Json[];
    expect(models.map((m) => m.displayName)).toEqual(['mnist-gcloud']);
    const [listed] = models;
    expect(listed).toMatchObject({ artifactUri: `gs://${BUCKET}/mnist-vit`, versionId: '1', versionAliases: ['default'], containerSpec: { imageUri: TF_IMAGE } });
    modelId = (listed.name as string).split('/').pop()!;
    expect(listed.name).toBe(`${h.parent}/models/${modelId}`);

    const described = await json(['ai', 'models', 'describe', modelId]);
    expect(described).toMatchObject({ name: listed.name, displayName: 'mnist-gcloud', supportedDeploymentResourcesTypes: ['DEDICATED_RESOURCES'] });
    expect(described.createTime).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/);
  });

  it('operations describe: the finished upload, its response an UploadModelResponse', async () => {
    const op = await json(['ai', 'operations', 'describe', uploadOperationId]);
    expect(op).toMatchObject({
      done: true,
      metadata: { '@type': 'type.googleapis.com/google.cloud.aiplatform.v1.UploadModelOperationMetadata' },
      response: { '@type': 'type.googleapis.com/google.cloud.aiplatform.v1.UploadModelResponse', model: `${h.parent}/models/${modelId}`, modelVersionId: '1' },
    });
    expect(op.name).toBe(`${h.parent}/models/${modelId}/operations/${uploadOperationId}`);
  });

  it('endpoints create, list and describe', async () => {
    const created = await gcloud.run(['ai', 'endpoints', 'create', region, '--display-name=mnist-gcloud-endpoint']);
    expect(created.code).toBe(0);
    const name = /Created Vertex AI endpoint: (\S+)\./.exec(created.stderr)![1];
    endpointId = name.split('/').pop()!;
    expect(name).toBe(`${h.parent}/endpoints/${endpointId}`);

    const endpoints = (await json(['ai', 'endpoints', 'list'])) as unknown as Json[];
    expect(endpoints.map((e) => [e.name, e.displayName])).toEqual([[name, 'mnist-gcloud-endpoint']]);
    const described = await json(['ai', 'endpoints', 'describe', endpointId]);
    expect(described).toMatchObject({ name, displayName: 'mnist-gcloud-endpoint' });
    expect(described).not.toHaveProperty('deployedModels');
  });

  it('endpoints deploy-model --traffic-split=0=100: the new deployed model takes all traffic', async () => {
    const out = await gcloud.run(['ai', 'endpoints', 'deploy-model', endpointId, region, `--model=${modelId}`, '--display-name=mnist-gcloud-dm', '--traffic-split=0=100']);
    expect(out.code).toBe(0);
    deployedModelId = /Id of the deployed model: (\d+)/.exec(out.stderr)![1];

    const described = await json(['ai', 'endpoints', 'describe', endpointId]);
    expect(described.trafficSplit).toEqual({ [deployedModelId]: 100 });
    expect(described.deployedModels).toHaveLength(1);
    expect(described.deployedModels[0]).toMatchObject({ id: deployedModelId, model: `${h.parent}/models/${modelId}`, displayName: 'mnist-gcloud-dm', modelVersionId: '1' });
  });

  it("endpoints predict --json-request: the demo model's answer, the same as the Node client's over gRPC", async () => {
    const digits = heldOutDigits();
    const picked = [600, 601, 602].map((i) => digits[i]);
    const pngs = await Promise.all(picked.map((d) => encodeDigit(d.pixels, 'png')));
    const requestFile = join(work, 'request.json');
    await writeFile(requestFile, JSON.stringify({ instances: pngs.map((p) => ({ string_input: { b64: p.toString('base64') } })) }));

    const res = await json(['ai', 'endpoints', 'predict', endpointId, `--json-request=${requestFile}`]);
    expect(res).toMatchObject({ deployedModelId, model: `${h.parent}/models/${modelId}`, modelVersionId: '1', modelDisplayName: 'mnist-gcloud' });
    const [viaNode] = await h.clients.predictions.predict({ endpoint: `${h.parent}/endpoints/${endpointId}`, instances: pngs.map(imageInstance) });
    expect(res.predictions).toEqual(predictionsOf(viaNode));
    expect((res.predictions as Json[]).map((p) => p.label)).toEqual(picked.map((d) => String(d.label)));
  });

  it('endpoints undeploy-model --deployed-model-id: the endpoint is left empty', async () => {
    await gcloud.ok(['ai', 'endpoints', 'undeploy-model', endpointId, region, `--deployed-model-id=${deployedModelId}`]);
    // Checked with the Node client: one gcloud start (~2 s) less.
    const [endpoint] = await h.clients.endpoints.getEndpoint({ name: `${h.parent}/endpoints/${endpointId}` });
    expect(endpoint.deployedModels ?? []).toEqual([]);
    expect(endpoint.trafficSplit ?? {}).toEqual({});
  });

  it("shows the emulator's error to the user: describe of a missing model fails with NOT_FOUND", async () => {
    const res = await gcloud.run(['ai', 'models', 'describe', '404404', region]);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('NOT_FOUND');
    expect(res.stderr).toContain(`Model ${h.parent}/models/404404 was not found.`);
  });
});
