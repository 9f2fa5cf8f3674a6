import { PermanentError } from '../errors';

export interface TensorSpec {
  /** the graph tensor, e.g. serving_default_string_input:0 */
  name: string;
  /** 'DT_STRING', 'DT_FLOAT', ... */
  dtype: string;
  /** -1 for an unknown dimension; null for unknown rank */
  shape: number[] | null;
}

export interface SignatureInfo {
  methodName: string;
  inputs: Record<string, TensorSpec>;
  outputs: Record<string, TensorSpec>;
}

export interface MetaGraphInfo {
  tags: string[];
  tensorflowVersion: string;
  signatures: Record<string, SignatureInfo>;
}

export interface SavedModelInfo {
  schemaVersion: number;
  metaGraphs: MetaGraphInfo[];
}

/** Bad input, never worth retrying: the upload is not a SavedModel. */
export class SavedModelFormatError extends PermanentError {
  constructor(message: string) {
    super(message, 'BAD_SAVED_MODEL');
    this.name = 'SavedModelFormatError';
  }
}
