/**
 * A ViT-B/16-shaped ONNX model with seeded random weights, for speed measurements only:
 * 224x224, patch 16 (a Conv, as Hugging Face exports it), dim 768, 12 layers, 12 heads,
 * MLP 3072, exact (erf) GELU, 1000 classes; pixel_values [N,3,224,224] -> logits [N,1000].
 * About 86M parameters (~350 MB): written under .dropship/, never committed.
 *
 *   npx node --conditions=source --import tsx local/model-build/build-vit-b16.ts [--out DIR] [--seed N] [--bench]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { vitPreprocessorConfig } from './preprocessor-config';
import { SeededRandom } from './seeded-random';
import { vitGraph, type VitGraphSpec } from './vit-onnx-graph';

export const DEFAULT_VIT_B16_DIR = '.dropship/models/vit-b16-random';

export const VIT_B16: VitGraphSpec = {
  name: 'vit-b16-random',
  image: 224,
  patch: 16,
  dim: 768,
  heads: 12,
  mlp: 3072,
  layers: 12,
  classes: 1000,
  layerNormEpsilon: 1e-12,
  patchify: 'rgb-conv',
  gelu: 'erf',
};

export async function buildVitB16(outDir: string, opts: { seed?: number } = {}): Promise<void> {
  const rng = new SeededRandom(opts.seed ?? 16);
  // uniform with ViT's init std 0.02; biases 0, LayerNorm gain 1
  const half = 0.02 * Math.sqrt(3);
  const graph = vitGraph(VIT_B16, (name, shape) => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (name.endsWith('/gamma')) data.fill(1);
    else if (!name.endsWith('/bias') && !name.endsWith('/beta')) for (let i = 0; i < data.length; i++) data[i] = (rng.next() * 2 - 1) * half;
    return data;
  });
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, 'model.onnx'), graph.encode({ name: VIT_B16.name, docString: 'ViT-B/16 shape, seeded random weights: for speed measurements only' }));
  const id2label = Object.fromEntries(Array.from({ length: VIT_B16.classes }, (_, i) => [String(i), `LABEL_${i}`]));
  await writeFile(join(outDir, 'config.json'), JSON.stringify({ model_type: 'vit', _comment: 'random weights', id2label }, null, 2) + '\n');
  await writeFile(join(outDir, 'preprocessor_config.json'), JSON.stringify(vitPreprocessorConfig(224), null, 2) + '\n');
}

/** Images per second of a bare ONNX Runtime session on random pixel values. */
export async function benchBareSession(modelPath: string, batch: number, opts: { threads?: number; seconds?: number } = {}): Promise<number> {
  const session = await ort.InferenceSession.create(modelPath, {
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    interOpNumThreads: 1,
    intraOpNumThreads: opts.threads ?? 2,
  });
  const rng = new SeededRandom(1);
  const input = new ort.Tensor(
    'float32',
    Float32Array.from({ length: batch * 3 * 224 * 224 }, () => rng.next() * 2 - 1),
    [batch, 3, 224, 224],
  );
  await session.run({ pixel_values: input }); // warm-up
  let images = 0;
  const start = process.hrtime.bigint();
  const budget = (opts.seconds ?? 10) * 1e9;
  while (Number(process.hrtime.bigint() - start) < budget) {
    await session.run({ pixel_values: input });
    images += batch;
  }
  const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  await session.release();
  return images / elapsed;
}

if (require.main === module) {
  const { values } = parseArgs({ options: { out: { type: 'string' }, seed: { type: 'string' }, bench: { type: 'boolean' } } });
  const out = values.out ?? DEFAULT_VIT_B16_DIR;
  (async () => {
    const t0 = Date.now();
    await buildVitB16(out, { seed: values.seed ? Number(values.seed) : undefined });
    console.log(`wrote ${join(out, 'model.onnx')} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    if (values.bench) {
      for (const batch of [1, 8]) {
        const rate = await benchBareSession(join(out, 'model.onnx'), batch);
        console.log(`bare ONNX Runtime session, 2 threads, batch ${batch}: ${rate.toFixed(2)} images/s`);
      }
    }
  })().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
