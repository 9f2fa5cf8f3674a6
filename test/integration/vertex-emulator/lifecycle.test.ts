import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PredictionServiceClient } from '@google-cloud/aiplatform';
import { OAuth2Client } from 'google-auth-library';
import { encodeDigit, heldOutDigits } from '#local/model-build/mnist-digits';
import { startVertexEmulator } from '#local/vertex-emulator/start';
import { silentLogger } from '#shared/logging/logger';
import { seedTitle, testRandom } from '#test/support/seeded-random';
import { Clients, createEndpoint, deploy, DEDICATED, DEMO_MODEL_DIR, imageInstance, LOCATION, newDataDir, predictionsOf, startHarness, uploadModel, type Harness } from './harness';

// which call an injected error rate fails, and with which code: the same draws every run
const faultDraws = testRandom('vertex emulator lifecycle: injected faults');

describe(seedTitle('Vertex AI emulator: versions, errors, faults', faultDraws), () => {
  let h: Harness;
  let model: string;
  let endpoint: string;
  let noOnnxDir: string;
  beforeAll(async () => {
    h = await startHarness({ restPort: 0, faultRandom: faultDraws.next });
    noOnnxDir = mkdtempSync(join(tmpdir(), 'saved-model-only-'));
    copyFileSync(join(DEMO_MODEL_DIR, 'saved_model.pb'), join(noOnnxDir, 'saved_model.pb'));
  });
  afterAll(async () => {
    await h?.close();
    rmSync(noOnnxDir, { recursive: true, force: true });
  });

  it('keeps versions and aliases: default on the first version, GetModel by @version and @alias, default movable', async () => {
    const { models } = h.clients;
    ({ model } = await uploadModel(h.clients, { parent: h.parent, artifactUri: DEMO_MODEL_DIR, displayName: 'digits' }));
    await uploadModel(h.clients, { parent: h.parent, artifactUri: DEMO_MODEL_DIR, displayName: 'digits', parentModel: model, versionAliases: ['canary'] });

    expect((await models.getModel({ name: model }))[0]).toMatchObject({ versionId: '1', versionAliases: ['default'] });
    expect((await models.getModel({ name: `${model}@canary` }))[0]).toMatchObject({ versionId: '2', versionAliases: ['canary'] });
    expect((await models.getModel({ name: `${model}@2` }))[0].versionId).toBe('2');
    const [versions] = await models.listModelVersions({ name: model });
    expect(versions.map((v) => v.versionId)).toEqual(['1', '2']);

    await models.mergeVersionAliases({ name: `${model}@2`, versionAliases: ['default', '-canary'] });
    expect((await models.getModel({ name: model }))[0]).toMatchObject({ versionId: '2', versionAliases: ['default'] });
    expect((await models.getModel({ name: `${model}@1` }))[0].versionAliases).toEqual([]);
    const [listed] = await models.listModels({ parent: h.parent, filter: 'display_name="digits"' });
    expect(listed.map((m) => [m.name, m.versionId])).toEqual([[model, '2']]);
  });

  it('answers NOT_FOUND and INVALID_ARGUMENT with messages that say what is wrong', async () => {
    const { models, endpoints } = h.clients;
    await expect(models.getModel({ name: `${h.parent}/models/nope` })).rejects.toMatchObject({ code: 5, message: expect.stringContaining('nope') });
    await expect(models.getModel({ name: `${model}@7` })).rejects.toMatchObject({ code: 5, message: expect.stringContaining('no version 7') });
    await expect(models.getModel({ name: `${model}@missing` })).rejects.toMatchObject({ code: 5, message: expect.stringContaining('"missing"') });
    await expect(models.uploadModel({ parent: h.parent, model: { artifactUri: DEMO_MODEL_DIR } })).rejects.toMatchObject({ code: 3, message: expect.stringContaining('displayName') });
    await expect(endpoints.getEndpoint({ name: `${h.parent}/endpoints/123` })).rejects.toMatchObject({ code: 5 });
    endpoint = await createEndpoint(h.clients, h.parent, 'errors');
    await expect(endpoints.deployModel({ endpoint, deployedModel: { model, dedicatedResources: { ...DEDICATED, minReplicaCount: 0 } }, trafficSplit: { '0': 100 } })).rejects.toMatchObject({
      code: 3,
      message: expect.stringContaining('minReplicaCount'),
    });
  });

  it('fails the deploy operation of a SavedModel without model.onnx, saying how to export one', async () => {
    const { model: bare } = await uploadModel(h.clients, { parent: h.parent, artifactUri: noOnnxDir, displayName: 'no-onnx' });
    const [op] = await h.clients.endpoints.deployModel({ endpoint, deployedModel: { model: bare, dedicatedResources: DEDICATED }, trafficSplit: { '0': 100 } });
    await expect(op.promise()).rejects.toMatchObject({ code: 9, message: expect.stringMatching(/no model\.onnx.*Export one/s) });
    const [ep] = await h.clients.endpoints.getEndpoint({ name: endpoint });
    expect(ep.deployedModels).toEqual([]);
  });

  it('answers a bad image with INVALID_ARGUMENT naming the instance, and an oversized payload like Vertex AI', async () => {
    await deploy(h.clients, endpoint, model, { '0': 100 });
    const good = imageInstance(await encodeDigit(heldOutDigits()[3].pixels, 'jpeg'));
    const bad = imageInstance(Buffer.from('this is not an image'));
    await expect(h.clients.predictions.predict({ endpoint, instances: [good, bad] })).rejects.toMatchObject({ code: 3, message: expect.stringContaining('instances[1]') });
    await expect(h.clients.predictions.predict({ endpoint, instances: [{ stringValue: 'x' }] })).rejects.toMatchObject({ code: 3, message: expect.stringContaining('string_input') });
    const big = imageInstance(Buffer.alloc(1.2 * 1024 * 1024, 1)); // 1.6 MB once base64-encoded
    await expect(h.clients.predictions.predict({ endpoint, instances: [big] })).rejects.toMatchObject({ code: 3, message: expect.stringContaining('payload size exceeds') });
    const [ok] = await h.clients.predictions.predict({ endpoint, instances: [good] });
    expect(predictionsOf(ok)[0].label).toBe(String(heldOutDigits()[3].label));
  });

  it('injects RESOURCE_EXHAUSTED / UNAVAILABLE and latency, set in-process or over HTTP from another process', async () => {
    const good = imageInstance(await encodeDigit(heldOutDigits()[3].pixels, 'jpeg'));
    h.emulator.setFaults({ predictErrorRate: 1 });
    const codes = new Set<number>();
    for (let i = 0; i < 12; i++) {
      const err = await h.clients.predictions.predict({ endpoint, instances: [good] }).then(
        () => null,
        (e: { code: number; message: string }) => e,
      );
      expect(err).not.toBeNull();
      codes.add(err!.code);
      if (err!.code === 8) expect(err!.message).toContain('Rate of traffic exceeds capacity. Ramp your traffic up more slowly.');
    }
    expect([...codes].sort((a, b) => a - b)).toEqual([8, 14]);

    const put = (body: unknown) => fetch(`http://127.0.0.1:${h.emulator.restPort}/emulator/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await put({ predictErrorRate: 2 })).status).toBe(400);
    expect((await put({ managementErrorRate: 1, predictLatencyMs: 300 })).status).toBe(200);
    const mgmt = await h.clients.models.getModel({ name: model }).then(
      () => null,
      (e: { code: number }) => e,
    );
    expect([8, 14]).toContain(mgmt?.code);
    const started = Date.now();
    await h.clients.predictions.predict({ endpoint, instances: [good] });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect((await put({})).status).toBe(200);
    await h.clients.models.getModel({ name: model });
  });

  it('serves REST predict to the official client with fallback "rest"', async () => {
    // Node's own fetch: gaxios would import node-fetch dynamically, which jest's VM cannot do.
    const authClient = new OAuth2Client({ transporterOptions: { fetchImplementation: fetch } });
    authClient.setCredentials({ access_token: 'emulator', expiry_date: Date.now() + 3_600_000 });
    const rest = new PredictionServiceClient({ apiEndpoint: '127.0.0.1', port: h.emulator.restPort, fallback: 'rest', protocol: 'http', authClient } as never);
    const digit = heldOutDigits()[600];
    const [res] = await rest.predict({ endpoint, instances: [imageInstance(await encodeDigit(digit.pixels, 'jpeg'))] });
    expect(res.modelVersionId).toBe('2');
    expect(predictionsOf(res)[0].label).toBe(String(digit.label));
    await rest.close();
  });
});

describe('Vertex AI emulator: restart', () => {
  it('keeps its state, finishes an operation started before the restart, and serves the reloaded model', async () => {
    const dataDir = newDataDir();
    const parent = `projects/demo-restart/locations/${LOCATION}`;
    let emulator = await startVertexEmulator({ dataDir, lroDelayMs: 50, logger: silentLogger });
    const first = new Clients(emulator.endpoint);
    const { model } = await uploadModel(first, { parent, artifactUri: DEMO_MODEL_DIR });
    const endpoint = await createEndpoint(first, parent);
    const live = await deploy(first, endpoint, model, { '0': 100 });
    const image = imageInstance(await encodeDigit(heldOutDigits()[900].pixels, 'jpeg'));
    const [before] = await first.predictions.predict({ endpoint, instances: [image] });
    emulator.setFaults({ operationDelayMs: { deployModel: 1500 } });
    const [pending] = await first.endpoints.deployModel({ endpoint, deployedModel: { model, dedicatedResources: DEDICATED }, trafficSplit: { '0': 50, [live]: 50 } });
    expect(pending.done).toBeFalsy();
    await first.close();
    const port = emulator.grpcPort;
    await emulator.stop();

    emulator = await startVertexEmulator({ dataDir, port, lroDelayMs: 50, logger: silentLogger });
    try {
      // A second client, as another process would: it only knows the operation's name.
      const second = new Clients(emulator.endpoint);
      const op = await second.endpoints.checkDeployModelProgress(pending.name!);
      const [deployed] = await op.promise();
      const [raw] = await second.endpoints.operationsClient.getOperation({ name: pending.name! } as Parameters<typeof second.endpoints.operationsClient.getOperation>[0]);
      expect(raw.done).toBe(true);
      const any = raw.metadata as unknown as { type_url: string };
      expect(any.type_url).toBe('type.googleapis.com/google.cloud.aiplatform.v1.DeployModelOperationMetadata');
      const [ep] = await second.endpoints.getEndpoint({ name: endpoint });
      expect(ep.trafficSplit).toEqual({ [live]: 50, [deployed.deployedModel!.id!]: 50 });
      const [res] = await second.predictions.predict({ endpoint, instances: [image] });
      expect([live, deployed.deployedModel!.id]).toContain(res.deployedModelId);
      // Same weights, same image: the reloaded model answers exactly as before the restart.
      expect(predictionsOf(res)).toEqual(predictionsOf(before));
      await second.close();
    } finally {
      await emulator.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
