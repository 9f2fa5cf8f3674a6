import type { SavedModelInfo, TensorSpec } from './saved-model-info';

/** What a SavedModel must expose to be served by dropship. */
export interface ExpectedSignature {
  tag: string;
  signatureKey: string;
  methodName: string;
  inputs: Record<string, Pick<TensorSpec, 'dtype' | 'shape'>>;
  outputs: Record<string, Pick<TensorSpec, 'dtype' | 'shape'>>;
}

/** The contract of PRODUCT.md: serving_default, string_input -> confidence, label. */
export const REFERENCE_SIGNATURE: ExpectedSignature = {
  tag: 'serve',
  signatureKey: 'serving_default',
  methodName: 'tensorflow/serving/predict',
  inputs: { string_input: { dtype: 'DT_STRING', shape: [-1] } },
  outputs: {
    confidence: { dtype: 'DT_FLOAT', shape: [-1] },
    label: { dtype: 'DT_STRING', shape: [-1] },
  },
};

const shapeText = (s: number[] | null): string => (s === null ? 'unknown rank' : `[${s.join(', ')}]`);
const list = (names: string[]): string => (names.length ? names.map((n) => `'${n}'`).join(', ') : 'none');

/** One sentence per mismatch between the SavedModel and `expected`; empty when it matches. */
export function checkSignature(info: SavedModelInfo, expected: ExpectedSignature = REFERENCE_SIGNATURE): string[] {
  const graph = info.metaGraphs.find((g) => g.tags.includes(expected.tag));
  if (!graph) {
    const tags = info.metaGraphs.map((g) => `[${g.tags.join(', ')}]`).join(', ');
    return [`no meta graph is tagged '${expected.tag}' (tags found: ${tags || 'none'}); save the model with tags=['${expected.tag}']`];
  }
  const sig = graph.signatures[expected.signatureKey];
  if (!sig) {
    return [`signature '${expected.signatureKey}' is missing (signatures found: ${list(Object.keys(graph.signatures))})`];
  }
  const problems: string[] = [];
  if (sig.methodName !== expected.methodName) {
    problems.push(`signature '${expected.signatureKey}' has method '${sig.methodName || '(none)'}', expected '${expected.methodName}'`);
  }
  for (const [side, want, have] of [
    ['input', expected.inputs, sig.inputs],
    ['output', expected.outputs, sig.outputs],
  ] as const) {
    for (const [key, spec] of Object.entries(want)) {
      const got = have[key];
      if (!got) {
        problems.push(`${side} '${key}' is missing (the signature's ${side}s are ${list(Object.keys(have))})`);
        continue;
      }
      if (got.dtype !== spec.dtype) problems.push(`${side} '${key}' has dtype ${got.dtype}, expected ${spec.dtype}`);
      if (shapeText(got.shape) !== shapeText(spec.shape)) {
        problems.push(`${side} '${key}' has shape ${shapeText(got.shape)}, expected ${shapeText(spec.shape)}`);
      }
    }
    for (const [key, got] of Object.entries(have)) {
      if (!(key in want)) problems.push(`unexpected ${side} '${key}' (${got.dtype} ${shapeText(got.shape)}); the contract's ${side}s are ${list(Object.keys(want))}`);
    }
  }
  return problems;
}
