import * as protobuf from 'protobufjs';

/**
 * Just enough of TensorFlow's saved_model.proto / meta_graph.proto / tensor_shape.proto to read
 * tags, the TensorFlow version and signatures (field numbers from tensorflow/core/protobuf and
 * tensorflow/core/framework). Everything else, the graph included, is skipped unparsed.
 * dtype is read as a number and named with TF_DTYPES, so unknown types survive.
 */
const SCHEMA = `
syntax = "proto3";
package tensorflow;

message SavedModel {
  int64 saved_model_schema_version = 1;
  repeated MetaGraphDef meta_graphs = 2;
}

message MetaGraphDef {
  MetaInfoDef meta_info_def = 1;
  map<string, SignatureDef> signature_def = 5;
}

message MetaInfoDef {
  string meta_graph_version = 1;
  repeated string tags = 4;
  string tensorflow_version = 5;
  string tensorflow_git_version = 6;
}

message SignatureDef {
  map<string, TensorInfo> inputs = 1;
  map<string, TensorInfo> outputs = 2;
  string method_name = 3;
}

message TensorInfo {
  string name = 1;
  int32 dtype = 2;
  TensorShapeProto tensor_shape = 3;
}

message TensorShapeProto {
  message Dim {
    int64 size = 1;
    string name = 2;
  }
  repeated Dim dim = 2;
  bool unknown_rank = 3;
}
`;

// keepCase: with camelCase conversion, encoding silently drops the snake_case fields
const root = protobuf.parse(SCHEMA, { keepCase: true }).root;
export const SavedModelProto = root.lookupType('tensorflow.SavedModel');

/** tensorflow/core/framework/types.proto DataType, the values a signature can carry. */
export const TF_DTYPES: Record<number, string> = {
  0: 'DT_INVALID',
  1: 'DT_FLOAT',
  2: 'DT_DOUBLE',
  3: 'DT_INT32',
  4: 'DT_UINT8',
  5: 'DT_INT16',
  6: 'DT_INT8',
  7: 'DT_STRING',
  8: 'DT_COMPLEX64',
  9: 'DT_INT64',
  10: 'DT_BOOL',
  11: 'DT_QINT8',
  12: 'DT_QUINT8',
  13: 'DT_QINT32',
  14: 'DT_BFLOAT16',
  15: 'DT_QINT16',
  16: 'DT_QUINT16',
  17: 'DT_UINT16',
  18: 'DT_COMPLEX128',
  19: 'DT_HALF',
  20: 'DT_RESOURCE',
  21: 'DT_VARIANT',
  22: 'DT_UINT32',
  23: 'DT_UINT64',
};

export function dtypeName(n: number): string {
  return TF_DTYPES[n] ?? `DT_UNKNOWN_${n}`;
}

export function dtypeNumber(name: string): number {
  const hit = Object.entries(TF_DTYPES).find(([, v]) => v === name);
  if (!hit) throw new Error(`unknown TensorFlow dtype ${name}`);
  return Number(hit[0]);
}
