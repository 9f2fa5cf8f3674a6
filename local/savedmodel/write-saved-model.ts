import { dtypeNumber, SavedModelProto } from '#shared/savedmodel/saved-model-schema';

/**
 * Encodes a saved_model.pb that carries signatures, tags and a TensorFlow version but no
 * graph: what the readers here and the deployment checks look at. Used for the demo model
 * (whose runnable form is model.onnx) and for test fixtures.
 */
export interface SignatureSpec {
  methodName?: string;
  inputs: Record<string, { dtype: string; shape: number[] | null; name?: string }>;
  outputs: Record<string, { dtype: string; shape: number[] | null; name?: string }>;
}

export interface SavedModelSpec {
  signatures: Record<string, SignatureSpec>;
  tensorflowVersion: string;
  tags?: string[];
  schemaVersion?: number;
}

export function writeSavedModel(spec: SavedModelSpec): Uint8Array {
  const signatureDef: Record<string, object> = {};
  for (const [key, sig] of Object.entries(spec.signatures)) {
    let output = 0;
    const tensors = (specs: SignatureSpec['inputs'], nameOf: (k: string) => string): Record<string, object> =>
      Object.fromEntries(
        Object.entries(specs).map(([k, t]) => [
          k,
          {
            name: t.name ?? nameOf(k),
            dtype: dtypeNumber(t.dtype),
            tensor_shape: t.shape === null ? { unknown_rank: true } : { dim: t.shape.map((size) => ({ size })) },
          },
        ]),
      );
    signatureDef[key] = {
      // tensor names as TF 2.x writes them for a tf.function signature
      inputs: tensors(sig.inputs, (k) => `${key}_${k}:0`),
      outputs: tensors(sig.outputs, () => `StatefulPartitionedCall:${output++}`),
      method_name: sig.methodName ?? 'tensorflow/serving/predict',
    };
  }
  const message = {
    saved_model_schema_version: spec.schemaVersion ?? 1,
    meta_graphs: [
      {
        meta_info_def: { tags: spec.tags ?? ['serve'], tensorflow_version: spec.tensorflowVersion, tensorflow_git_version: 'unknown' },
        signature_def: signatureDef,
      },
    ],
  };
  return SavedModelProto.encode(SavedModelProto.fromObject(message)).finish();
}
