import { dtypeName, SavedModelProto } from './saved-model-schema';
import { SavedModelFormatError, type SavedModelInfo, type SignatureInfo, type TensorSpec } from './saved-model-info';

export { SavedModelFormatError } from './saved-model-info';
export type { MetaGraphInfo, SavedModelInfo, SignatureInfo, TensorSpec } from './saved-model-info';

interface RawTensorInfo {
  name: string;
  dtype: number;
  tensor_shape?: { dim: Array<{ size: number }>; unknown_rank: boolean };
}

interface RawSavedModel {
  saved_model_schema_version: number;
  meta_graphs: Array<{
    meta_info_def?: { tags: string[]; tensorflow_version: string };
    signature_def: Record<string, { inputs: Record<string, RawTensorInfo>; outputs: Record<string, RawTensorInfo>; method_name: string }>;
  }>;
}

const NOT_A_SAVED_MODEL = 'is not a TensorFlow SavedModel (saved_model.pb)';

/**
 * Reads the parts of a saved_model.pb the deployment checks need. Anything that is not a
 * SavedModel (empty, truncated, random bytes, another protobuf) throws SavedModelFormatError
 * with a message that says what was wrong.
 */
export function readSavedModel(bytes: Uint8Array): SavedModelInfo {
  if (bytes.length === 0) throw new SavedModelFormatError(`the file is empty (0 bytes), so it ${NOT_A_SAVED_MODEL}`);
  let raw: RawSavedModel;
  try {
    const msg = SavedModelProto.decode(bytes);
    raw = SavedModelProto.toObject(msg, { longs: Number, defaults: true, arrays: true, objects: true }) as RawSavedModel;
  } catch (err) {
    throw new SavedModelFormatError(`the file ${NOT_A_SAVED_MODEL}: it does not parse as one (${(err as Error).message}); it may be truncated or another kind of file`);
  }
  // TensorFlow has only ever written schema version 1; anything else is another message that happened to parse
  if (raw.saved_model_schema_version !== 1) {
    throw new SavedModelFormatError(`the file ${NOT_A_SAVED_MODEL}: saved_model_schema_version is ${raw.saved_model_schema_version}, expected 1`);
  }
  if (raw.meta_graphs.length === 0) throw new SavedModelFormatError(`the file ${NOT_A_SAVED_MODEL}: it holds no meta graphs`);
  return {
    schemaVersion: raw.saved_model_schema_version,
    metaGraphs: raw.meta_graphs.map((mg, i) => {
      if (!mg.meta_info_def) throw new SavedModelFormatError(`the file ${NOT_A_SAVED_MODEL}: meta graph ${i} has no meta_info_def (tags, TensorFlow version)`);
      const signatures: Record<string, SignatureInfo> = {};
      for (const [key, sig] of Object.entries(mg.signature_def)) {
        signatures[key] = { methodName: sig.method_name, inputs: tensorSpecs(sig.inputs), outputs: tensorSpecs(sig.outputs) };
      }
      return { tags: mg.meta_info_def.tags, tensorflowVersion: mg.meta_info_def.tensorflow_version, signatures };
    }),
  };
}

function tensorSpecs(map: Record<string, RawTensorInfo>): Record<string, TensorSpec> {
  const out: Record<string, TensorSpec> = {};
  for (const [key, t] of Object.entries(map)) {
    const shape = !t.tensor_shape || t.tensor_shape.unknown_rank ? null : t.tensor_shape.dim.map((d) => d.size);
    out[key] = { name: t.name, dtype: dtypeName(t.dtype), shape };
  }
  return out;
}
