import type * as tfType from '@tensorflow/tfjs';
import { DIGIT_SIZE } from './mnist-split';
import type { SeededRandom } from './seeded-random';
import type { NamedTensor } from './weights-file';

/**
 * The demo model: a tiny Vision Transformer on 28x28 digits. 7x7 patches (16 tokens) embedded
 * by a matmul, a CLS token, learned position embeddings, pre-norm blocks, a linear classifier.
 * This file is the single description both the trainer (tfjs) and the ONNX exporter follow.
 */
export const VIT = {
  image: DIGIT_SIZE,
  patch: 7,
  grid: 4,
  tokens: 17,
  patchDim: 49,
  dim: 64,
  heads: 4,
  headDim: 16,
  mlp: 128,
  layers: 2,
  classes: 10,
  layerNormEpsilon: 1e-5,
} as const;

export type Params = Map<string, tfType.Variable>;

/** Parameter names and shapes, in a fixed order (the order of the weights file). */
export function parameterShapes(): Array<[string, number[]]> {
  const { patchDim, dim, tokens, mlp, classes, layers } = VIT;
  const shapes: Array<[string, number[]]> = [
    ['patch_embed/kernel', [patchDim, dim]],
    ['patch_embed/bias', [dim]],
    ['cls_token', [1, 1, dim]],
    ['pos_embed', [1, tokens, dim]],
  ];
  for (let l = 0; l < layers; l++) {
    const b = `block${l}`;
    shapes.push(
      [`${b}/ln1/gamma`, [dim]],
      [`${b}/ln1/beta`, [dim]],
      [`${b}/attn/q/kernel`, [dim, dim]],
      [`${b}/attn/q/bias`, [dim]],
      [`${b}/attn/k/kernel`, [dim, dim]],
      [`${b}/attn/k/bias`, [dim]],
      [`${b}/attn/v/kernel`, [dim, dim]],
      [`${b}/attn/v/bias`, [dim]],
      [`${b}/attn/out/kernel`, [dim, dim]],
      [`${b}/attn/out/bias`, [dim]],
      [`${b}/ln2/gamma`, [dim]],
      [`${b}/ln2/beta`, [dim]],
      [`${b}/mlp/fc1/kernel`, [dim, mlp]],
      [`${b}/mlp/fc1/bias`, [mlp]],
      [`${b}/mlp/fc2/kernel`, [mlp, dim]],
      [`${b}/mlp/fc2/bias`, [dim]],
    );
  }
  shapes.push(['ln_final/gamma', [dim]], ['ln_final/beta', [dim]], ['head/kernel', [dim, classes]], ['head/bias', [classes]]);
  return shapes;
}

/** Seeded initial values: truncated normal 0.02 for embeddings, Xavier-uniform for kernels. */
export function initialParameters(rng: SeededRandom): NamedTensor[] {
  return parameterShapes().map(([name, shape]) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    if (name.endsWith('/gamma')) data.fill(1);
    else if (name.endsWith('/kernel')) {
      const limit = name === 'head/kernel' ? 0 : Math.sqrt(6 / (shape[0] + shape[1]));
      for (let i = 0; i < size; i++) data[i] = (rng.next() * 2 - 1) * limit;
    } else if (name === 'cls_token' || name === 'pos_embed') {
      for (let i = 0; i < size; i++) data[i] = rng.truncatedNormal(0.02);
    }
    return { name, shape, data };
  });
}

/**
 * Patches of one gray digit (28x28 serving values), shifted by (dx, dy) pixels with the
 * background value filling the gap: patch p = row*4 + col, inside a patch row-major. The ONNX
 * graph reproduces this order with Reshape [N,4,7,4,7] + Transpose [0,1,3,2,4].
 */
export function writePatches(img: Float32Array, out: Float32Array, offset: number, dx = 0, dy = 0, background = -1): void {
  const { patch, grid, image } = VIT;
  let o = offset;
  for (let pr = 0; pr < grid; pr++) {
    for (let pc = 0; pc < grid; pc++) {
      for (let r = 0; r < patch; r++) {
        const y = pr * patch + r - dy;
        for (let c = 0; c < patch; c++) {
          const x = pc * patch + c - dx;
          out[o++] = y >= 0 && y < image && x >= 0 && x < image ? img[y * image + x] : background;
        }
      }
    }
  }
}

/** Logits [B,10] from patches [B,16,49]. */
export function forward(tf: typeof tfType, p: Params, patches: tfType.Tensor3D): tfType.Tensor2D {
  const { dim, tokens, heads, headDim, grid, patchDim, classes, layers } = VIT;
  const B = patches.shape[0];
  const w = (n: string): tfType.Variable => {
    const v = p.get(n);
    if (!v) throw new Error(`missing parameter ${n}`);
    return v;
  };
  const dense = (x: tfType.Tensor, prefix: string, outDim: number): tfType.Tensor => {
    const inDim = x.shape[x.shape.length - 1];
    const lead = x.shape.slice(0, -1);
    const y = tf.add(tf.matMul(tf.reshape(x, [-1, inDim]) as tfType.Tensor2D, w(`${prefix}/kernel`) as tfType.Tensor2D), w(`${prefix}/bias`));
    return tf.reshape(y, [...lead, outDim]);
  };
  const layerNorm = (x: tfType.Tensor, prefix: string): tfType.Tensor => {
    const { mean, variance } = tf.moments(x, -1, true);
    const normed = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, VIT.layerNormEpsilon)));
    return tf.add(tf.mul(normed, w(`${prefix}/gamma`)), w(`${prefix}/beta`));
  };
  const gelu = (x: tfType.Tensor): tfType.Tensor => {
    // tanh approximation; the ONNX graph (opset 17, no Gelu op) spells out the same formula
    const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
    return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner)));
  };
  const splitHeads = (x: tfType.Tensor): tfType.Tensor4D => tf.transpose(tf.reshape(x, [B, tokens, heads, headDim]), [0, 2, 1, 3]);

  const embedded = dense(tf.reshape(patches, [B, grid * grid, patchDim]), 'patch_embed', dim);
  const cls = tf.tile(w('cls_token'), [B, 1, 1]);
  let x: tfType.Tensor = tf.add(tf.concat([cls, embedded], 1), w('pos_embed'));
  for (let l = 0; l < layers; l++) {
    const b = `block${l}`;
    const h = layerNorm(x, `${b}/ln1`);
    const q = splitHeads(dense(h, `${b}/attn/q`, dim));
    const k = splitHeads(dense(h, `${b}/attn/k`, dim));
    const v = splitHeads(dense(h, `${b}/attn/v`, dim));
    const att = tf.softmax(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(headDim)));
    const ctx = tf.reshape(tf.transpose(tf.matMul(att, v), [0, 2, 1, 3]), [B, tokens, dim]);
    x = tf.add(x, dense(ctx, `${b}/attn/out`, dim));
    const h2 = layerNorm(x, `${b}/ln2`);
    x = tf.add(x, dense(gelu(dense(h2, `${b}/mlp/fc1`, VIT.mlp)), `${b}/mlp/fc2`, dim));
  }
  x = layerNorm(x, 'ln_final');
  const clsOut = tf.reshape(tf.slice(x, [0, 0, 0], [B, 1, dim]), [B, dim]);
  return dense(clsOut, 'head', classes) as tfType.Tensor2D;
}
