import { float, int, ints, OnnxGraph } from './onnx/onnx-graph';

/**
 * Writes a ViT classifier as an ONNX graph (opset 17): pixel_values [N,3,H,W] -> logits
 * [N,classes]. Pre-norm blocks, CLS token, learned position embeddings, final LayerNorm on
 * the CLS token, linear head. Parameters are named as in mnist-vit-model.ts.
 */
export interface VitGraphSpec {
  name: string;
  image: number;
  patch: number;
  dim: number;
  heads: number;
  mlp: number;
  layers: number;
  classes: number;
  layerNormEpsilon: number;
  /**
   * 'gray-matmul': average the 3 channels, cut patches with Reshape/Transpose in the trainer's
   * order and embed with a [patch*patch, dim] matmul (the demo model, trained on gray digits).
   * 'rgb-conv': a Conv with kernel = stride = patch, as Hugging Face's ViT exports it.
   */
  patchify: 'gray-matmul' | 'rgb-conv';
  /** 'tanh' approximation (the demo model) or exact 'erf' (Hugging Face's ViT) */
  gelu: 'tanh' | 'erf';
}

export type WeightSource = (name: string, shape: number[]) => Float32Array;

export function vitGraph(spec: VitGraphSpec, weights: WeightSource): OnnxGraph {
  const g = new OnnxGraph();
  const { image, patch, dim, heads, mlp, layers, classes } = spec;
  const grid = image / patch;
  const tokens = grid * grid + 1;
  const headDim = dim / heads;
  const w = (name: string, shape: number[]): string => g.floats(name, shape, weights(name, shape));

  const pixels = g.input('pixel_values', ['batch', 3, image, image]);
  let embedded: string;
  if (spec.patchify === 'gray-matmul') {
    const gray = g.node('ReduceMean', [pixels], { axes: ints([1]), keepdims: int(1) });
    const blocks = g.node('Reshape', [gray, g.int64s([-1, grid, patch, grid, patch])]);
    const ordered = g.node('Transpose', [blocks], { perm: ints([0, 1, 3, 2, 4]) });
    const patches = g.node('Reshape', [ordered, g.int64s([-1, grid * grid, patch * patch])]);
    embedded = g.node('Add', [g.node('MatMul', [patches, w('patch_embed/kernel', [patch * patch, dim])]), w('patch_embed/bias', [dim])]);
  } else {
    const conv = g.node('Conv', [pixels, w('patch_embed/kernel', [dim, 3, patch, patch]), w('patch_embed/bias', [dim])], {
      kernel_shape: ints([patch, patch]),
      strides: ints([patch, patch]),
    });
    const flat = g.node('Reshape', [conv, g.int64s([0, dim, grid * grid])]);
    embedded = g.node('Transpose', [flat], { perm: ints([0, 2, 1]) });
  }

  // CLS token broadcast to the batch: Expand to [N, 1, dim] with N read from the input's shape
  const batch = g.node('Gather', [g.node('Shape', [pixels]), g.int64s([0])], { axis: int(0) });
  const clsShape = g.node('Concat', [batch, g.int64s([1, dim])], { axis: int(0) });
  const cls = g.node('Expand', [w('cls_token', [1, 1, dim]), clsShape]);
  let x = g.node('Add', [g.node('Concat', [cls, embedded], { axis: int(1) }), w('pos_embed', [1, tokens, dim])]);

  const layerNorm = (input: string, prefix: string): string =>
    g.node('LayerNormalization', [input, w(`${prefix}/gamma`, [dim]), w(`${prefix}/beta`, [dim])], {
      axis: int(-1),
      epsilon: float(spec.layerNormEpsilon),
    });
  const dense = (input: string, prefix: string, inDim: number, outDim: number): string =>
    g.node('Add', [g.node('MatMul', [input, w(`${prefix}/kernel`, [inDim, outDim])]), w(`${prefix}/bias`, [outDim])]);
  const headsShape = g.int64s([0, tokens, heads, headDim]);
  const mergedShape = g.int64s([0, tokens, dim]);
  const scoreScale = g.scalar(1 / Math.sqrt(headDim));
  const half = g.scalar(0.5);
  const one = g.scalar(1);
  const gelu = (input: string): string => {
    let inner: string;
    if (spec.gelu === 'tanh') {
      const cube = g.node('Pow', [input, g.scalar(3)]);
      const poly = g.node('Add', [input, g.node('Mul', [g.scalar(0.044715), cube])]);
      inner = g.node('Tanh', [g.node('Mul', [g.scalar(Math.sqrt(2 / Math.PI)), poly])]);
    } else {
      inner = g.node('Erf', [g.node('Mul', [input, g.scalar(Math.SQRT1_2)])]);
    }
    return g.node('Mul', [g.node('Mul', [half, input]), g.node('Add', [one, inner])]);
  };

  for (let l = 0; l < layers; l++) {
    const b = `block${l}`;
    const h = layerNorm(x, `${b}/ln1`);
    const project = (name: string, perm: number[]): string => g.node('Transpose', [g.node('Reshape', [dense(h, `${b}/attn/${name}`, dim, dim), headsShape])], { perm: ints(perm) });
    const q = project('q', [0, 2, 1, 3]);
    const kT = project('k', [0, 2, 3, 1]);
    const v = project('v', [0, 2, 1, 3]);
    const att = g.node('Softmax', [g.node('Mul', [g.node('MatMul', [q, kT]), scoreScale])], { axis: int(-1) });
    const ctx = g.node('Reshape', [g.node('Transpose', [g.node('MatMul', [att, v])], { perm: ints([0, 2, 1, 3]) }), mergedShape]);
    x = g.node('Add', [x, dense(ctx, `${b}/attn/out`, dim, dim)]);
    const h2 = layerNorm(x, `${b}/ln2`);
    x = g.node('Add', [x, dense(gelu(dense(h2, `${b}/mlp/fc1`, dim, mlp)), `${b}/mlp/fc2`, mlp, dim)]);
  }
  const final = layerNorm(x, 'ln_final');
  const clsOut = g.node('Gather', [final, g.int64s([0], [])], { axis: int(1) });
  g.node('Add', [g.node('MatMul', [clsOut, w('head/kernel', [dim, classes])]), w('head/bias', [classes])], {}, ['logits']);
  g.output('logits', ['batch', classes]);
  return g;
}
