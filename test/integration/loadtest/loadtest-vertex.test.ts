import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { main as loadtestMain } from '#local/loadtest/command';
import type { LoadTestSummary } from '#local/loadtest/latency-stats';
import { runLoadTest, failureCode } from '#local/loadtest/run-load-test';
import { vertexPredictTarget } from '#local/loadtest/vertex-predict-target';
import { deployDirectly } from '#local/vertex-emulator/deploy-directly';
import { startVertexEmulator, type VertexEmulator } from '#local/vertex-emulator/start';
import { vertexClientOptions } from '#shared/adapters/vertex-client-options';
import { silentLogger } from '#shared/logging/logger';
import { encodeDigit, heldOutDigits } from '#local/model-build/mnist-digits';
import { uniqueProjectId } from '../../support/emulator-env';
import { seedTitle, testRandom } from '#test/support/seeded-random';

const DEMO_MODEL_DIR = resolve(__dirname, '../../../local/demo-model/mnist-vit');
const LOCATION = 'us-central1';
const INJECTED = ['RESOURCE_EXHAUSTED', 'UNAVAILABLE'];

/** The figures of one report must agree with each other, whatever the machine's speed. */
function expectConsistent(s: LoadTestSummary, instancesPerRequest: number): void {
  const byCode = Object.values(s.failuresByCode).reduce((a, b) => a + b, 0);
  expect(s.failures).toBe(byCode);
  expect(s.failures).toBeLessThan(s.requests);
  expect(s.instancesSent).toBe(s.requests * instancesPerRequest);
  const l = s.latencyMs;
  expect(l.min).toBeGreaterThan(0);
  expect([l.min, l.p50, l.p90, l.p95, l.p99, l.max]).toEqual([...[l.min, l.p50, l.p90, l.p95, l.p99, l.max]].sort((a, b) => a - b));
  expect(l.avg).toBeGreaterThanOrEqual(l.min);
  expect(l.avg).toBeLessThanOrEqual(l.max);
  expect(s.elapsedSeconds).toBeGreaterThan(0);
  expect(s.rps).toBeCloseTo(s.requests / s.elapsedSeconds, 1);
}

// which of the calls the 10% error rate refuses, and with which code: the same draws every run
const faultDraws = testRandom('loadtest against the Vertex AI emulator: injected faults');

describe(seedTitle('dropship loadtest against the Vertex AI emulator with 10% injected 429/503', faultDraws), () => {
  let dataDir: string;
  let imageDir: string;
  let emulator: VertexEmulator;
  let endpoint: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'loadtest-vertex-'));
    imageDir = mkdtempSync(join(tmpdir(), 'loadtest-images-'));
    emulator = await startVertexEmulator({ dataDir, lroDelayMs: 20, intraOpNumThreads: 1, faultRandom: faultDraws.next, logger: silentLogger });
    const opts = vertexClientOptions({ VERTEX_LOCATION: LOCATION, VERTEX_API_ENDPOINT: emulator.endpoint });
    ({ endpoint } = await deployDirectly(opts, {
      parent: `projects/${uniqueProjectId('demo-loadtest')}/locations/${LOCATION}`,
      displayName: 'mnist-vit',
      endpointDisplayName: 'loadtest',
      artifactUri: DEMO_MODEL_DIR,
    }));
    const digits = heldOutDigits().slice(0, 5);
    for (const [i, d] of digits.entries()) writeFileSync(join(imageDir, `digit-${i}.png`), await encodeDigit(d.pixels, 'png'));
    emulator.setFaults({ predictErrorRate: 0.1 });
  });

  afterAll(async () => {
    await emulator?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(imageDir, { recursive: true, force: true });
  });

  it('counts every request and each failure by its code, exactly as the calls ended', async () => {
    // Prepare: the engine's own target, wrapped to keep an independent tally of outcomes.
    const images = [0, 1, 2].map((i) => readFileSync(join(imageDir, `digit-${i}.png`)));
    const target = vertexPredictTarget({ endpoint, location: LOCATION, apiEndpoint: emulator.endpoint, images, instancesPerRequest: 1 });
    const tally = { ok: 0, failed: new Map<string, number>() };
    const send = async (user: number) => {
      try {
        await target.send(user);
        tally.ok++;
      } catch (err) {
        const code = failureCode(err);
        tally.failed.set(code, (tally.failed.get(code) ?? 0) + 1);
        throw err;
      }
    };
    const ticks: LoadTestSummary[] = [];

    // Act
    let run;
    try {
      run = await runLoadTest({ users: 4, spawnRate: 20, maxRequests: 120, thinkTimeMs: 0, instancesPerRequest: 1 }, send, { onTick: (live) => ticks.push(live) });
    } finally {
      await target.close();
    }

    // Assess
    const s = run.summary;
    expect(s.requests).toBe(120);
    expect(s.requests).toBe(tally.ok + [...tally.failed.values()].reduce((a, b) => a + b, 0));
    expect(s.failuresByCode).toEqual(Object.fromEntries([...tally.failed.entries()].sort()));
    // 10% of 120 calls, drawn from a seeded source: the same failures every run (none at all would have odds of 0.9^120)
    expect(s.failures).toBeGreaterThan(0);
    for (const code of Object.keys(s.failuresByCode)) expect(INJECTED).toContain(code);
    expectConsistent(s, 1);
    for (const live of ticks) expect(live.requests).toBeLessThanOrEqual(s.requests);
  });

  it('runs as `dropship loadtest` for a bounded time and writes the same report as JSON', async () => {
    // Prepare
    const jsonFile = join(imageDir, 'report.json');
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);

    // Act
    let code: number;
    try {
      code = await loadtestMain([
        '--endpoint',
        endpoint,
        '--api-endpoint',
        emulator.endpoint,
        '--location',
        LOCATION,
        '--users',
        '3',
        '--spawn-rate',
        '10',
        '--duration',
        '2',
        '--instances',
        '2',
        '--images',
        imageDir,
        '--json',
        jsonFile,
        '--quiet',
      ]);
    } finally {
      stdout.mockRestore();
    }

    // Assess
    expect(code).toBe(0);
    const report = JSON.parse(readFileSync(jsonFile, 'utf8')) as LoadTestSummary & { endpoint: string; plan: { users: number; instancesPerRequest: number } };
    expect(report.endpoint).toBe(endpoint);
    expect(report.plan).toMatchObject({ users: 3, instancesPerRequest: 2, durationSeconds: 2 });
    expect(report.requests).toBeGreaterThan(0);
    // The run stops by itself: the duration bounds it, and the last calls end soon after.
    expect(report.elapsedSeconds).toBeGreaterThanOrEqual(2);
    for (const c of Object.keys(report.failuresByCode)) expect(INJECTED).toContain(c);
    expectConsistent(report, 2);
  });
});
