import * as protobuf from 'protobufjs';
import { ONNX_PROTO } from './onnx-schema';

/**
 * A small builder for ONNX graphs, encoded with protobufjs from the minimal schema beside it
 * (onnx-schema.ts). Enough for the ViT builders: float/int64 initializers, nodes with int, float
 * and ints attributes, float tensor inputs/outputs with symbolic batch dimensions.
 */
const root = protobuf.parse(ONNX_PROTO, { keepCase: true }).root;
export const ModelProto = root.lookupType('onnx.ModelProto');

const FLOAT = 1;
const INT64 = 7;
const ATTR = { FLOAT: 1, INT: 2, FLOATS: 6, INTS: 7 } as const;

export type Attribute = { kind: 'int'; value: number } | { kind: 'float'; value: number } | { kind: 'ints'; value: number[] };
export const int = (value: number): Attribute => ({ kind: 'int', value });
export const float = (value: number): Attribute => ({ kind: 'float', value });
export const ints = (value: number[]): Attribute => ({ kind: 'ints', value });

export type Dim = number | string;

export class OnnxGraph {
  private readonly nodes: object[] = [];
  private readonly initializers: object[] = [];
  private readonly inputs: object[] = [];
  private readonly outputs: object[] = [];
  private counter = 0;

  input(name: string, dims: Dim[]): string {
    this.inputs.push(valueInfo(name, dims));
    return name;
  }

  output(name: string, dims: Dim[]): void {
    this.outputs.push(valueInfo(name, dims));
  }

  floats(name: string, dims: number[], data: Float32Array): string {
    const size = dims.reduce((a, b) => a * b, 1);
    if (size !== data.length) throw new Error(`initializer ${name}: ${data.length} values for shape [${dims}]`);
    this.initializers.push({ name, dims, data_type: FLOAT, raw_data: leBytes(data) });
    return name;
  }

  scalar(value: number): string {
    return this.floats(this.fresh('const'), [], Float32Array.of(value));
  }

  int64s(values: number[], dims: number[] = [values.length]): string {
    const name = this.fresh('const');
    this.initializers.push({ name, dims, data_type: INT64, raw_data: leBytes(BigInt64Array.from(values.map(BigInt))) });
    return name;
  }

  /** Adds a node and returns its outputs' names (`outputs` fixes them; otherwise generated). */
  node(opType: string, inputs: string[], attrs: Record<string, Attribute> = {}, outputs?: string[]): string {
    const out = outputs ?? [this.fresh(opType.toLowerCase())];
    const attribute = Object.entries(attrs).map(([name, a]) =>
      a.kind === 'int' ? { name, type: ATTR.INT, i: a.value } : a.kind === 'float' ? { name, type: ATTR.FLOAT, f: a.value } : { name, type: ATTR.INTS, ints: a.value },
    );
    this.nodes.push({ op_type: opType, name: `${out[0]}_node`, input: inputs, output: out, attribute });
    return out[0];
  }

  encode(opts: { name: string; docString?: string; opset?: number; metadata?: Record<string, string> }): Uint8Array {
    const model = {
      ir_version: 8,
      producer_name: 'dropship-model-build',
      producer_version: '1',
      doc_string: opts.docString ?? '',
      opset_import: [{ domain: '', version: opts.opset ?? 17 }],
      metadata_props: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
      graph: { name: opts.name, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs },
    };
    const err = ModelProto.verify(model);
    if (err) throw new Error(`ONNX model does not fit the schema: ${err}`);
    return ModelProto.encode(ModelProto.fromObject(model)).finish();
  }

  private fresh(prefix: string): string {
    return `${prefix}_${this.counter++}`;
  }
}

function valueInfo(name: string, dims: Dim[]): object {
  return {
    name,
    type: { tensor_type: { elem_type: FLOAT, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) } } },
  };
}

function leBytes(data: Float32Array | BigInt64Array): Uint8Array {
  // ONNX raw_data is little-endian, which is every platform Node runs on here; a view, not a
  // copy, because ViT-B/16's weights are ~350 MB
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
