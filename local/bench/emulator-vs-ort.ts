/**
 * ViT-B/16 images/s through the Vertex AI emulator's predict path (the official client over
 * gRPC -> emulator -> decode + TF bilinear resize -> ONNX Runtime) against a bare ONNX Runtime
 * session fed the same images already preprocessed, with the same thread count, at several
 * batch sizes. Calls alternate one by one between the two paths, so background load on the
 * machine hits both alike; each figure is the median over rounds. The emulator is also
 * measured with two requests in flight (decoding overlaps the run), in a block of its own.
 * Writes .dropship/bench/*.json.
 *
 *   npx node --conditions=source --import tsx local/bench/emulator-vs-ort.ts [--threads N] [--batches 1,2,4,8] [--rounds 3] [--images 16]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { EndpointServiceClient, helpers, ModelServiceClient, PredictionServiceClient } from '@google-cloud/aiplatform';
import * as ort from 'onnxruntime-node';
import { buildVitB16, DEFAULT_VIT_B16_DIR } from '#local/model-build/build-vit-b16';
import { startVertexEmulator } from '#local/vertex-emulator/start';
import { vertexClientOptions } from '#shared/adapters/vertex-client-options';
import { createLogger } from '#shared/logging/logger';
import { OnnxImageClassifier } from '#shared/model/onnx-image-classifier';
import { benchJpegs } from './bench-images';

interface Row {
  batch: number;
  bareImagesPerSecond: number;
  /** one request in flight, as a simple client sends them */
  emulatorImagesPerSecond: number;
  /** two requests in flight: the next request's decode overlaps the current run */
  emulatorPipelinedImagesPerSecond: number;
  rounds: Array<{ bare: number; emulator: number; pipelined: number }>;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      threads: { type: 'string' },
      batches: { type: 'string', default: '1,2,4,8' },
      rounds: { type: 'string', default: '3' },
      images: { type: 'string', default: '16' },
      model: { type: 'string', default: DEFAULT_VIT_B16_DIR },
    },
  });
  const threads = Number(values.threads ?? availableParallelism());
  const batches = values.batches!.split(',').map(Number);
  const rounds = Number(values.rounds);
  const imagesPerRound = Number(values.images);
  const modelDir = resolve(values.model!);

  try {
    await access(join(modelDir, 'model.onnx'));
  } catch {
    process.stdout.write(`building ViT-B/16 with random weights in ${modelDir} ...\n`);
    await buildVitB16(modelDir);
  }
  const jpegs = await benchJpegs(Math.max(...batches));
  const loadBefore = loadavg()[0];

  // The bare path: the same session options the emulator's runtime uses, inputs preprocessed up front.
  const preprocessor = await OnnxImageClassifier.load(modelDir, { intraOpNumThreads: 1 });
  const inputs = new Map<number, ort.Tensor>();
  for (const b of batches) inputs.set(b, new ort.Tensor('float32', await preprocessor.preprocess(jpegs.slice(0, b)), [b, 3, 224, 224]));
  const { inputName, outputName } = preprocessor;
  await preprocessor.close();
  const bare = await ort.InferenceSession.create(join(modelDir, 'model.onnx'), {
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    interOpNumThreads: 1,
    intraOpNumThreads: threads,
  });

  // The emulator path: in this process, reached over gRPC by the official client.
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-vertex-'));
  const emulator = await startVertexEmulator({ dataDir, lroDelayMs: 0, intraOpNumThreads: threads, logger: createLogger({ component: 'vertex-emulator', minSeverity: 'WARNING' }) });
  const opts = vertexClientOptions({ VERTEX_LOCATION: 'us-central1', VERTEX_API_ENDPOINT: emulator.endpoint });
  const models = new ModelServiceClient(opts);
  const endpoints = new EndpointServiceClient(opts);
  const predictions = new PredictionServiceClient(opts);
  const parent = 'projects/bench/locations/us-central1';
  const [[upload]] = await Promise.all([models.uploadModel({ parent, model: { displayName: 'vit-b16-random', artifactUri: modelDir } }).then(([op]) => op.promise())]);
  const [endpoint] = await (await endpoints.createEndpoint({ parent, endpoint: { displayName: 'bench' } }))[0].promise();
  await (
    await endpoints.deployModel({
      endpoint: endpoint.name,
      deployedModel: { model: upload.model, dedicatedResources: { machineSpec: { machineType: 'n1-standard-8' }, minReplicaCount: 1, maxReplicaCount: 1 } },
      trafficSplit: { '0': 100 },
    })
  )[0].promise();
  // Encoded once, as a load generator would: the figure is the server's, not the client's base64.
  const instances = jpegs.map((j) => helpers.toValue({ string_input: { b64: j.toString('base64') } })!);

  const runBare = async (b: number, images: number) => {
    const feeds = { [inputName]: inputs.get(b)! };
    return rate(images, b, 1, () => bare.run(feeds, [outputName]));
  };
  const runEmulator = async (b: number, images: number, inFlight: number) =>
    rate(images, b, inFlight, async () => {
      const [res] = await predictions.predict({ endpoint: endpoint.name!, instances: instances.slice(0, b) });
      if (res.predictions?.length !== b) throw new Error(`expected ${b} predictions, got ${res.predictions?.length}`);
    });

  const rows: Row[] = [];
  for (const b of batches) {
    await runBare(b, b);
    await runEmulator(b, b, 1);
    const per: Row['rounds'] = [];
    for (let r = 0; r < rounds; r++) {
      const calls = Math.max(2, Math.ceil(imagesPerRound / b));
      // One bare call, one emulator call, alternating which goes first: both see the same background load.
      let bareSeconds = 0;
      let emulatorSeconds = 0;
      for (let i = 0; i < calls; i++) {
        const bareFirst = i % 2 === 0;
        if (bareFirst) bareSeconds += await timed(() => runBare(b, b));
        emulatorSeconds += await timed(() => runEmulator(b, b, 1));
        if (!bareFirst) bareSeconds += await timed(() => runBare(b, b));
      }
      const round = { bare: (calls * b) / bareSeconds, emulator: (calls * b) / emulatorSeconds, pipelined: await runEmulator(b, calls * b, 2) };
      per.push(round);
      process.stdout.write(`batch ${b} round ${r + 1}: bare ${round.bare.toFixed(2)}, emulator ${round.emulator.toFixed(2)}, 2 in flight ${round.pipelined.toFixed(2)} images/s\n`);
    }
    rows.push({
      batch: b,
      bareImagesPerSecond: median(per.map((x) => x.bare)),
      emulatorImagesPerSecond: median(per.map((x) => x.emulator)),
      emulatorPipelinedImagesPerSecond: median(per.map((x) => x.pipelined)),
      rounds: per,
    });
  }

  await Promise.all([models.close(), endpoints.close(), predictions.close()]);
  await emulator.stop();
  await bare.release();
  rmSync(dataDir, { recursive: true, force: true });

  const best = (f: (r: Row) => number) => rows.reduce((a, r) => (f(r) > f(a) ? r : a));
  const bestBare = best((r) => r.bareImagesPerSecond);
  const bestEmu = best((r) => Math.max(r.emulatorImagesPerSecond, r.emulatorPipelinedImagesPerSecond));
  const bestEmuRate = Math.max(bestEmu.emulatorImagesPerSecond, bestEmu.emulatorPipelinedImagesPerSecond);
  const summary = {
    batch1Ratio: ratio(rows[0]),
    bestBatch: { bare: { batch: bestBare.batch, imagesPerSecond: bestBare.bareImagesPerSecond }, emulator: { batch: bestEmu.batch, imagesPerSecond: bestEmuRate }, ratio: bestEmuRate / bestBare.bareImagesPerSecond },
  };

  const lines = [
    '',
    `ViT-B/16 (random weights), ${threads} ONNX Runtime thread(s), ${cpus()[0]?.model ?? 'cpu'} x${cpus().length}, median of ${rounds} rounds, ` +
      `load average ${loadBefore.toFixed(1)} before / ${loadavg()[0].toFixed(1)} after (other work on the machine makes figures noisy)`,
    'batch  bare img/s  emulator img/s (ratio)  emulator 2-in-flight img/s (ratio)',
    ...rows.map(
      (r) =>
        `${String(r.batch).padStart(5)}  ${r.bareImagesPerSecond.toFixed(2).padStart(10)}  ${r.emulatorImagesPerSecond.toFixed(2).padStart(14)} (${pct(r.emulatorImagesPerSecond / r.bareImagesPerSecond)})` +
        `  ${r.emulatorPipelinedImagesPerSecond.toFixed(2).padStart(26)} (${pct(r.emulatorPipelinedImagesPerSecond / r.bareImagesPerSecond)})`,
    ),
    `batch 1: emulator at ${pct(summary.batch1Ratio)} of bare (best of 1 and 2 in flight; 1 in flight: ${pct(rows[0].emulatorImagesPerSecond / rows[0].bareImagesPerSecond)})`,
    `best batch: bare ${bestBare.bareImagesPerSecond.toFixed(2)} img/s at batch ${bestBare.batch}; emulator ${bestEmuRate.toFixed(2)} img/s at batch ${bestEmu.batch}: ${pct(summary.bestBatch.ratio)}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');

  const outDir = resolve('.dropship/bench');
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `emulator-vs-ort-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      { benchmark: 'emulator-vs-ort', model: 'vit-b16-random', threads, cpu: cpus()[0]?.model, cpus: cpus().length, node: process.version, onnxruntime: ort.env.versions.common, rounds, imagesPerRound, loadAverage: { before: loadBefore, after: loadavg()[0] }, rows, summary, time: new Date().toISOString() },
      null,
      2,
    ) + '\n',
  );
  process.stdout.write(`wrote ${file}\n`);
}

async function timed(f: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await f();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** Images per second over `images` images sent `batch` at a time with `inFlight` calls outstanding. */
async function rate(images: number, batch: number, inFlight: number, call: () => Promise<unknown>): Promise<number> {
  const calls = Math.ceil(images / batch);
  let started = 0;
  const t0 = process.hrtime.bigint();
  const worker = async () => {
    while (started < calls) {
      started++;
      await call();
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, calls) }, worker));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return (calls * batch) / seconds;
}

function ratio(r: Row): number {
  return Math.max(r.emulatorImagesPerSecond, r.emulatorPipelinedImagesPerSecond) / r.bareImagesPerSecond;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
