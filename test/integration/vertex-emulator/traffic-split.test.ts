import { encodeDigit, heldOutDigits } from '#local/model-build/mnist-digits';
import { createEndpoint, deploy, DEDICATED, DEMO_MODEL_DIR, imageInstance, startHarness, uploadModel, type Harness } from './harness';

describe('Vertex AI emulator: traffic split across two versions', () => {
  let h: Harness;
  let endpoint: string;
  let v1: string;
  let v2: string;
  beforeAll(async () => {
    h = await startHarness();
    const first = await uploadModel(h.clients, { parent: h.parent, artifactUri: DEMO_MODEL_DIR });
    const second = await uploadModel(h.clients, { parent: h.parent, artifactUri: DEMO_MODEL_DIR, parentModel: first.model, versionAliases: ['canary'] });
    expect([first.versionId, second.versionId]).toEqual(['1', '2']);
    endpoint = await createEndpoint(h.clients, h.parent);
    v1 = await deploy(h.clients, endpoint, `${first.model}@1`, { '0': 100 });
    v2 = await deploy(h.clients, endpoint, `${first.model}@canary`, { '0': 10, [v1]: 90 });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('routes 1,000 predictions 90/10 within binomial noise', async () => {
    const [ep] = await h.clients.endpoints.getEndpoint({ name: endpoint });
    expect(ep.trafficSplit).toEqual({ [v1]: 90, [v2]: 10 });
    expect(ep.deployedModels!.map((d) => [d.id, d.modelVersionId])).toEqual([
      [v1, '1'],
      [v2, '2'],
    ]);

    const instance = imageInstance(await encodeDigit(heldOutDigits()[0].pixels, 'png'));
    const n = 1000;
    const counts: Record<string, number> = {};
    const versions: Record<string, string> = {};
    let next = 0;
    const worker = async () => {
      while (next < n) {
        next++;
        const [res] = await h.clients.predictions.predict({ endpoint, instances: [instance] });
        counts[res.deployedModelId!] = (counts[res.deployedModelId!] ?? 0) + 1;
        versions[res.deployedModelId!] = res.modelVersionId!;
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));

    expect(Object.keys(counts).sort()).toEqual([v1, v2].sort());
    expect(counts[v1] + counts[v2]).toBe(n);
    expect(versions).toEqual({ [v1]: '1', [v2]: '2' });
    // 4 standard deviations of Binomial(1000, 0.1) is about 38.
    const sigma = Math.sqrt(n * 0.1 * 0.9);
    expect(Math.abs(counts[v2] - n * 0.1)).toBeLessThan(4 * sigma);
  });

  it('refuses to undeploy a version that still has traffic, and undeploys it once the request moves its traffic', async () => {
    await expect(h.clients.endpoints.undeployModel({ endpoint, deployedModelId: v1 })).rejects.toMatchObject({ code: 9, message: expect.stringContaining('90%') });
    await expect(h.clients.endpoints.undeployModel({ endpoint, deployedModelId: v2 })).rejects.toMatchObject({ code: 9 });

    const [op] = await h.clients.endpoints.undeployModel({ endpoint, deployedModelId: v2, trafficSplit: { [v1]: 100 } });
    await op.promise();
    const [ep] = await h.clients.endpoints.getEndpoint({ name: endpoint });
    expect(ep.trafficSplit).toEqual({ [v1]: 100 });
    expect(ep.deployedModels!.map((d) => d.id)).toEqual([v1]);
  });

  it('refuses a traffic split that does not add up to 100, and one naming an unknown deployed model', async () => {
    const [model] = await h.clients.models.listModels({ parent: h.parent });
    const req = (trafficSplit: Record<string, number>) => ({ endpoint, deployedModel: { model: model[0].name, dedicatedResources: DEDICATED }, trafficSplit });
    await expect(h.clients.endpoints.deployModel(req({ '0': 50, [v1]: 40 }))).rejects.toMatchObject({ code: 3, message: expect.stringContaining('add up to 90') });
    await expect(h.clients.endpoints.deployModel(req({ '0': 50, '12345': 50 }))).rejects.toMatchObject({ code: 3, message: expect.stringContaining('12345') });
  });

  it('shifts traffic with UpdateEndpoint (update_mask traffic_split), as promote and rollback do', async () => {
    const [model] = await h.clients.models.listModels({ parent: h.parent });
    const v3 = await deploy(h.clients, endpoint, `${model[0].name}@2`, {});
    let [ep] = await h.clients.endpoints.getEndpoint({ name: endpoint });
    expect(ep.trafficSplit).toEqual({ [v1]: 100 }); // an empty split leaves traffic where it was

    [ep] = await h.clients.endpoints.updateEndpoint({ endpoint: { name: endpoint, trafficSplit: { [v3]: 100 } }, updateMask: { paths: ['traffic_split'] } });
    expect(ep.trafficSplit).toEqual({ [v3]: 100 });
    await expect(h.clients.endpoints.updateEndpoint({ endpoint: { name: endpoint, trafficSplit: { [v3]: 60 } }, updateMask: { paths: ['traffic_split'] } })).rejects.toMatchObject({ code: 3 });
    const [op] = await h.clients.endpoints.undeployModel({ endpoint, deployedModelId: v1 });
    await op.promise();

    // Replica counts can change in place; anything else means deploy new, shift traffic, undeploy old.
    const [mutate] = await h.clients.endpoints.mutateDeployedModel({
      endpoint,
      deployedModel: { id: v3, dedicatedResources: { minReplicaCount: 2, maxReplicaCount: 4 } },
      updateMask: { paths: ['dedicated_resources.min_replica_count', 'dedicated_resources.max_replica_count'] },
    });
    const [mutated] = await mutate.promise();
    expect(mutated.deployedModel!.dedicatedResources).toMatchObject({ machineSpec: { machineType: 'n1-standard-8' }, minReplicaCount: 2, maxReplicaCount: 4 });
    await expect(
      h.clients.endpoints.mutateDeployedModel({
        endpoint,
        deployedModel: { id: v3, dedicatedResources: { machineSpec: { machineType: 'n1-standard-4' } } },
        updateMask: { paths: ['dedicated_resources.machine_spec'] },
      }),
    ).rejects.toMatchObject({ code: 3, message: expect.stringContaining('deploy a new model') });
    await expect(h.clients.endpoints.deleteEndpoint({ name: endpoint })).rejects.toMatchObject({ code: 9 });
  });
});
