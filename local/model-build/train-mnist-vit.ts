/**
 * Trains the demo model (a tiny ViT, see mnist-vit-model.ts) on the `mnist` package's digits,
 * minus the held-out 1,500, reproducibly: seeded initialisation, shuffling and augmentation,
 * tfjs on the single-threaded wasm backend. Writes a checkpoint after every epoch in the
 * weights layout of weights-file.ts; export-mnist-vit.ts turns it into the demo model folder.
 *
 *   npx node --conditions=source --import tsx local/model-build/train-mnist-vit.ts [--epochs 20] [--out DIR]
 */
import { parseArgs } from 'node:util';
import type * as tfType from '@tensorflow/tfjs';
import { loadSplit, servingValue, type Digit } from './mnist-split';
import { forward, initialParameters, VIT, writePatches, type Params } from './mnist-vit-model';
import { SeededRandom } from './seeded-random';
import { wasmTf } from './tfjs-wasm';
import { writeWeights } from './weights-file';

export const TRAINING = {
  seed: 20240607,
  epochs: 25,
  batchSize: 64,
  learningRate: 2e-3,
  warmupEpochs: 1,
  maxShift: 1,
} as const;

export const DEFAULT_CHECKPOINT_DIR = '.dropship/mnist-vit-train';

function learningRateAt(step: number, totalSteps: number, warmupSteps: number): number {
  if (step < warmupSteps) return (TRAINING.learningRate * (step + 1)) / warmupSteps;
  const progress = (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
  return TRAINING.learningRate * 0.5 * (1 + Math.cos(Math.PI * progress));
}

function batchPatches(digits: Digit[], rng: SeededRandom | null): Float32Array {
  const per = VIT.grid * VIT.grid * VIT.patchDim;
  const out = new Float32Array(digits.length * per);
  for (let i = 0; i < digits.length; i++) {
    const img = digits[i].pixels.map(servingValue);
    const dx = rng ? rng.int(2 * TRAINING.maxShift + 1) - TRAINING.maxShift : 0;
    const dy = rng ? rng.int(2 * TRAINING.maxShift + 1) - TRAINING.maxShift : 0;
    writePatches(img, out, i * per, dx, dy);
  }
  return out;
}

async function snapshot(params: Params, dir: string, meta: Record<string, unknown>): Promise<void> {
  const tensors = [];
  for (const [name, v] of params) tensors.push({ name, shape: v.shape, data: (await v.data()) as Float32Array });
  await writeWeights(dir, tensors, meta);
}

export async function train(opts: { epochs: number; outDir: string; log?: (s: string) => void }): Promise<void> {
  const log = opts.log ?? ((s: string) => process.stdout.write(s + '\n'));
  const tf = await wasmTf();
  const rng = new SeededRandom(TRAINING.seed);
  const params: Params = new Map();
  for (const t of initialParameters(rng)) params.set(t.name, tf.variable(tf.tensor(t.data, t.shape), true, t.name));

  const { train: trainSet } = loadSplit();
  const stepsPerEpoch = Math.ceil(trainSet.length / TRAINING.batchSize);
  const totalSteps = stepsPerEpoch * opts.epochs;
  const optimizer = tf.train.adam(TRAINING.learningRate);
  const vars = [...params.values()];
  log(`training on ${trainSet.length} digits, ${opts.epochs} epochs of ${stepsPerEpoch} steps, backend ${tf.getBackend()}`);

  let step = 0;
  const started = Date.now();
  for (let epoch = 1; epoch <= opts.epochs; epoch++) {
    const epochStart = Date.now();
    const order = rng.shuffle(trainSet.map((_, i) => i));
    let lossSum = 0;
    let correct = 0;
    for (let s = 0; s < stepsPerEpoch; s++) {
      const batch = order.slice(s * TRAINING.batchSize, (s + 1) * TRAINING.batchSize).map((i) => trainSet[i]);
      // the optimizer reads this field on every update, so the schedule can set it per step
      (optimizer as unknown as { learningRate: number }).learningRate = learningRateAt(step, totalSteps, stepsPerEpoch * TRAINING.warmupEpochs);
      const xs = tf.tensor3d(batchPatches(batch, rng), [batch.length, VIT.grid * VIT.grid, VIT.patchDim]);
      const ys = tf.oneHot(
        tf.tensor1d(
          batch.map((d) => d.label),
          'int32',
        ),
        VIT.classes,
      );
      let predicted: tfType.Tensor | null = null;
      const loss = optimizer.minimize(
        () => {
          const logits = forward(tf, params, xs);
          predicted = tf.keep(tf.argMax(logits, 1));
          return tf.losses.softmaxCrossEntropy(ys, logits) as tfType.Scalar;
        },
        true,
        vars,
      );
      lossSum += (await loss!.data())[0] * batch.length;
      const pred = await (predicted as unknown as tfType.Tensor).data();
      batch.forEach((d, i) => (correct += pred[i] === d.label ? 1 : 0));
      tf.dispose([xs, ys, loss!, predicted as unknown as tfType.Tensor]);
      step++;
    }
    const seconds = (Date.now() - epochStart) / 1000;
    log(`epoch ${epoch}/${opts.epochs}: loss ${(lossSum / trainSet.length).toFixed(4)}, train accuracy ${((100 * correct) / trainSet.length).toFixed(2)}%, ${seconds.toFixed(1)} s`);
    await snapshot(params, opts.outDir, { epoch, epochs: opts.epochs, seed: TRAINING.seed, seconds: (Date.now() - started) / 1000 });
  }
  log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s; checkpoint in ${opts.outDir}`);
}

if (require.main === module) {
  const { values } = parseArgs({ options: { epochs: { type: 'string' }, out: { type: 'string' } } });
  train({ epochs: Number(values.epochs ?? TRAINING.epochs), outDir: values.out ?? DEFAULT_CHECKPOINT_DIR }).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
