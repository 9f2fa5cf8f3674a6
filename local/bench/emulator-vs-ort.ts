/**
 * ViT-B/16 images/s through the Vertex AI emulator's predict path (the official client over
 * gRPC -> emulator -> decode + TF bilinear resize -> ONNX Runtime) against a bare ONNX Runtime
 * session fed the same images already preprocessed, with the same thread count, at several
 * batch sizes. The emulator is measured with one request in flight and with two (the next
 * request's decoding overlaps the current run). The three run in short blocks in rotating
 * order, so background load on the machine falls on all alike; ratios are medians of the
 * per-cycle ratios. Writes .dropship/bench/*.json.
 *
 *   npx node --conditions=source --import tsx local/bench/emulator-vs-ort.ts [--threads N] [--batches 1,2,4,8] [--rounds 8] [--images 4]
 *
 * --rounds: cycles per batch size; --images: at least this many images per block (2 calls at least)
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { helpers, PredictionServiceClient } from '@google-cloud/aiplatform';
import * as ort from 'onnxruntime-node';
import { buildVitB16, DEFAULT_VIT_B16_DIR } from '#local/model-build/build-vit-b16';
import { deployDirectly } from '#local/vertex-emulator/deploy-directly';
import { startVertexEmulator } from '#local/vertex-emulator/start';
import { vertexClientOptions } from '#shared/adapters/vertex-client-options';
import { createLogger } from '#shared/logging/logger';
import { OnnxImageClassifier } from '#local/model/onnx-image-classifier';
import { benchJpegs } from './bench-images';

interface Row {
  batch: number;
  bareImagesPerSecond: number;
  /** one request in flight, as a simple client sends them */
  emulatorImagesPerSecond: number;
  /** two requests in flight: the next request's decode overlaps the current run */
  emulatorPipelinedImagesPerSecond: number;
  /** median over cycles of emulator / bare within the cycle */
  ratio: number;
  pipelinedRatio: number;
  /** images/s of each way in each cycle */
  cycles: Array<{ bare: number; emulator: number; pipelined: number }>;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      threads: { type: 'string' },
      batches: { type: 'string', default: '1,2,4,8' },
      rounds: { type: 'string', default: '8' },
      images: { type: 'string', default: '4' },
      model: { type: 'string', default: DEFAULT_VIT_B16_DIR },
    },
  });
  const threads = Number(values.threads ?? availableParallelism());
  const batches = values.batches!.split(',').map(Number);
  const rounds = Number(values.rounds);
  const imagesPerBlock = Number(values.images);
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
  const predictions = new PredictionServiceClient(opts);
  const { endpoint } = await deployDirectly(opts, {
    parent: 'projects/bench/locations/us-central1',
    displayName: 'vit-b16-random',
    endpointDisplayName: 'bench',
    artifactUri: modelDir,
    machineType: 'n1-standard-8',
  });
  // Encoded once, as a load generator would: the figure is the server's, not the client's base64.
  const instances = jpegs.map((j) => helpers.toValue({ string_input: { b64: j.toString('base64') } })!);

  const runBare = async (b: number, images: number) => {
    const feeds = { [inputName]: inputs.get(b)! };
    return rate(images, b, 1, () => bare.run(feeds, [outputName]));
  };
  const runEmulator = async (b: number, images: number, inFlight: number) =>
    rate(images, b, inFlight, async () => {
      const [res] = await predictions.predict({ endpoint, instances: instances.slice(0, b) });
      if (res.predictions?.length !== b) throw new Error(`expected ${b} predictions, got ${res.predictions?.length}`);
    });

  const rows: Row[] = [];
  for (const b of batches) {
    await runBare(b, b);
    await runEmulator(b, b, 2);
    // Cycles of three short blocks (bare, emulator, emulator with 2 in flight) in rotating order:
    // background load on the machine falls on all three alike within a cycle, so each cycle
    // gives a fair ratio; the figures are the median ratio over cycles and rates over all of them.
    const callsPerBlock = Math.max(2, Math.ceil(imagesPerBlock / b));
    const images = callsPerBlock * b;
    const cycles: Row['cycles'] = [];
    const ways: Array<[keyof Row['cycles'][number], () => Promise<unknown>]> = [
      ['bare', () => runBare(b, images)],
      ['emulator', () => runEmulator(b, images, 1)],
      ['pipelined', () => runEmulator(b, images, 2)],
    ];
    for (let c = 0; c < rounds; c++) {
      const cycle = { bare: 0, emulator: 0, pipelined: 0 };
      for (let i = 0; i < ways.length; i++) {
        const [way, run] = ways[(i + c) % ways.length];
        cycle[way] = images / (await timed(run));
      }
      cycles.push(cycle);
    }
    const total = (way: keyof Row['cycles'][number]) => (cycles.length * images) / cycles.reduce((a, x) => a + images / x[way], 0);
    const row: Row = {
      batch: b,
      bareImagesPerSecond: total('bare'),
      emulatorImagesPerSecond: total('emulator'),
      emulatorPipelinedImagesPerSecond: total('pipelined'),
      ratio: median(cycles.map((x) => x.emulator / x.bare)),
      pipelinedRatio: median(cycles.map((x) => x.pipelined / x.bare)),
      cycles,
    };
    rows.push(row);
    process.stdout.write(
      `batch ${b}: bare ${row.bareImagesPerSecond.toFixed(2)}, emulator ${row.emulatorImagesPerSecond.toFixed(2)} (${pct(row.ratio)}), ` +
        `2 in flight ${row.emulatorPipelinedImagesPerSecond.toFixed(2)} (${pct(row.pipelinedRatio)}) images/s over ${rounds} cycles\n`,
    );
  }

  await predictions.close();
  await emulator.stop();
  await bare.release();
  rmSync(dataDir, { recursive: true, force: true });

  const bestRatio = (r: Row) => Math.max(r.ratio, r.pipelinedRatio);
  const bestBare = rows.reduce((a, r) => (r.bareImagesPerSecond > a.bareImagesPerSecond ? r : a));
  const emuRate = (r: Row) => Math.max(r.emulatorImagesPerSecond, r.emulatorPipelinedImagesPerSecond);
  const bestEmu = rows.reduce((a, r) => (emuRate(r) > emuRate(a) ? r : a));
  const summary = {
    batch1Ratio: bestRatio(rows[0]),
    bestBatch: {
      bare: { batch: bestBare.batch, imagesPerSecond: bestBare.bareImagesPerSecond },
      emulator: { batch: bestEmu.batch, imagesPerSecond: emuRate(bestEmu) },
      /** median per-cycle ratio at the batch where the bare session is fastest */
      ratio: bestRatio(bestBare),
    },
  };

  const lines = [
    '',
    `ViT-B/16 (random weights), ${threads} ONNX Runtime thread(s), ${cpus()[0]?.model ?? 'cpu'} x${cpus().length}, ${rounds} cycles, ` +
      `load average ${loadBefore.toFixed(1)} before / ${loadavg()[0].toFixed(1)} after (other work on the machine makes figures noisy)`,
    'batch  bare img/s  emulator img/s (ratio)  emulator 2-in-flight img/s (ratio)   ratio = median over cycles',
    ...rows.map(
      (r) =>
        `${String(r.batch).padStart(5)}  ${r.bareImagesPerSecond.toFixed(2).padStart(10)}  ${r.emulatorImagesPerSecond.toFixed(2).padStart(14)} (${pct(r.ratio)})` +
        `  ${r.emulatorPipelinedImagesPerSecond.toFixed(2).padStart(26)} (${pct(r.pipelinedRatio)})`,
    ),
    `batch 1: emulator at ${pct(summary.batch1Ratio)} of bare (best of 1 and 2 in flight)`,
    `best batch: bare ${bestBare.bareImagesPerSecond.toFixed(2)} img/s at batch ${bestBare.batch}, emulator there at ${pct(summary.bestBatch.ratio)}; ` +
      `emulator's best ${emuRate(bestEmu).toFixed(2)} img/s at batch ${bestEmu.batch}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');

  const outDir = resolve('.dropship/bench');
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `emulator-vs-ort-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      {
        benchmark: 'emulator-vs-ort',
        model: 'vit-b16-random',
        threads,
        cpu: cpus()[0]?.model,
        cpus: cpus().length,
        node: process.version,
        onnxruntime: ort.env.versions.common,
        cycles: rounds,
        imagesPerBlock,
        loadAverage: { before: loadBefore, after: loadavg()[0] },
        rows,
        summary,
        time: new Date().toISOString(),
      },
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

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
