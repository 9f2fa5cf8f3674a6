import { MetricServiceClient } from '@google-cloud/monitoring';
import { vertexClientOptions } from '#shared/adapters/vertex-client-options';
import { cloudMonitoringServingMetrics } from '#shared/deployment/adapters/monitoring-serving-metrics';
import { encodeDigit, heldOutDigits } from '#local/model-build/mnist-digits';
import { pickDeployedModel } from '#local/vertex-emulator/traffic';
import { SeededRandom } from '#local/model-build/seeded-random';
import { createEndpoint, deploy, DEMO_MODEL_DIR, imageInstance, LOCATION, startHarness, uploadModel, type Harness } from '../vertex-emulator/harness';

/**
 * The analysis' error counts, end to end on the local stack: the real @google-cloud/monitoring
 * client behind the ServingMetrics adapter, asking the Vertex AI emulator's MetricService what
 * Cloud Monitoring would answer (response_count per deployed_model_id and response_code),
 * after Predict calls of which one deployed model fails a share. Also: the seeded traffic split.
 */
describe('Vertex AI serving metrics: per-deployed-model call and error counts through Cloud Monitoring', () => {
  let h: Harness;
  let monitoring: MetricServiceClient;
  let endpoint: string;
  let stable: string;
  let canary: string;
  beforeAll(async () => {
    h = await startHarness({ intraOpNumThreads: 1 });
    monitoring = new MetricServiceClient(vertexClientOptions({ VERTEX_LOCATION: LOCATION, VERTEX_API_ENDPOINT: h.emulator.endpoint }) as ConstructorParameters<typeof MetricServiceClient>[0]);
    const up = await uploadModel(h.clients, { parent: h.parent, artifactUri: DEMO_MODEL_DIR });
    endpoint = await createEndpoint(h.clients, h.parent);
    stable = await deploy(h.clients, endpoint, `${up.model}@1`, { '0': 100 });
    canary = await deploy(h.clients, endpoint, `${up.model}@1`, { '0': 30, [stable]: 70 });
  }, 60_000);
  afterAll(async () => {
    await monitoring?.close();
    await h?.close();
  });

  it("counts every call per deployed model, 5xx as the deployed model's errors, in the window asked for", async () => {
    // Arrange: the canary fails 25% of its calls; the split's and the failures' draws seeded
    const seed = 20261202;
    process.stdout.write(`[seed] trafficSeed ${seed}\n`);
    h.emulator.setFaults({ trafficSeed: seed, deployedModels: { [canary]: { errorRate: 0.25 } } });
    const instance = imageInstance(await encodeDigit(heldOutDigits()[0]!.pixels, 'png'));
    const before = new Date();
    await new Promise((r) => setTimeout(r, 5));

    // Act: 200 calls, one at a time (so the draws meet the calls in one order), as a worker sends them
    const seen: Record<string, { ok: number; failed: number }> = { [stable]: { ok: 0, failed: 0 }, [canary]: { ok: 0, failed: 0 } };
    let unattributed = 0;
    for (let i = 0; i < 200; i++) {
      try {
        const [res] = await h.clients.predictions.predict({ endpoint, instances: [instance] });
        seen[res.deployedModelId!]!.ok++;
      } catch (err) {
        expect((err as { code?: number }).code).toBe(13);
        unattributed++; // the caller cannot tell which deployed model failed: only the counts can
      }
    }
    const counts = await cloudMonitoringServingMetrics(monitoring).countsOf(endpoint, before, new Date());

    // Assess: calls = answered + failed per deployed model; every failure is the canary's, none the stable's
    expect(counts[stable]).toEqual({ requests: seen[stable]!.ok, errors: 0 });
    expect(counts[canary]!.requests).toBe(seen[canary]!.ok + unattributed);
    expect(counts[canary]!.errors).toBe(unattributed);
    expect(counts[stable]!.requests + counts[canary]!.requests).toBe(200);
    // 30% of 200 = 60 calls, 25% of them failing: within 4 standard deviations
    expect(Math.abs(counts[canary]!.requests - 60)).toBeLessThan(4 * Math.sqrt(200 * 0.3 * 0.7));
    expect(unattributed).toBeGreaterThan(0);
    // the same seed draws the same split: replay the split's draws of the calls above
    const [ep] = await h.clients.endpoints.getEndpoint({ name: endpoint });
    const split = Object.fromEntries(Object.entries(ep.trafficSplit!).map(([id, p]) => [id, Number(p)]));
    const replay = new SeededRandom(seed);
    const expectedCanary = Array.from({ length: 200 }).filter(() => {
      const id = pickDeployedModel(split, () => replay.next());
      if (id === canary) replay.next(); // the canary's errorRate draw follows its pick
      return id === canary;
    }).length;
    expect(counts[canary]!.requests).toBe(expectedCanary);

    // a window before the calls holds none of them
    expect(await cloudMonitoringServingMetrics(monitoring).countsOf(endpoint, new Date(before.getTime() - 60_000), before)).toEqual({});
    h.emulator.setFaults({});
  }, 60_000);

  it('refuses a query the stand-in does not serve, by name, rather than approximating it', async () => {
    await expect(
      monitoring.listTimeSeries({
        name: `projects/${h.parent.split('/')[1]}`,
        filter: 'metric.type = "aiplatform.googleapis.com/prediction/online/cpu/utilization"',
        interval: { endTime: { seconds: Math.floor(Date.now() / 1000) } },
        view: 'FULL',
      }),
    ).rejects.toMatchObject({ code: 3, message: expect.stringContaining('response_count') });
  });
});
