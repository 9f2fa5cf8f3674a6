import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as protobuf from 'protobufjs';
import { OnnxGraph } from '#local/model-build/onnx/onnx-graph';
import { readSavedModel, SavedModelFormatError } from '#shared/savedmodel/read-saved-model';
import { checkSignature, REFERENCE_SIGNATURE } from '#shared/savedmodel/signature-check';
import { writeSavedModel } from '#local/savedmodel/write-saved-model';

/**
 * A saved_model.pb encoded field by field with protobufjs's Writer from the field numbers in
 * tensorflow's .proto files, independent of the schema the reader uses. It carries a graph_def
 * and a saver_def, as real files do, which the reader must skip.
 */
function handEncodedSavedModel(): Uint8Array {
  const dim = (size: number) =>
    protobuf.Writer.create()
      .uint32((1 << 3) | 0)
      .int64(size)
      .finish();
  const shape = (sizes: number[]) => {
    const w = protobuf.Writer.create();
    for (const s of sizes) w.uint32((2 << 3) | 2).bytes(dim(s));
    return w.finish();
  };
  const tensorInfo = (name: string, dtype: number, sizes: number[]) =>
    protobuf.Writer.create()
      .uint32((1 << 3) | 2)
      .string(name)
      .uint32((2 << 3) | 0)
      .int32(dtype)
      .uint32((3 << 3) | 2)
      .bytes(shape(sizes))
      .finish();
  const mapEntry = (key: string, value: Uint8Array) =>
    protobuf.Writer.create()
      .uint32((1 << 3) | 2)
      .string(key)
      .uint32((2 << 3) | 2)
      .bytes(value)
      .finish();
  const signature = protobuf.Writer.create()
    .uint32((1 << 3) | 2)
    .bytes(mapEntry('string_input', tensorInfo('serving_default_string_input:0', 7, [-1])))
    .uint32((2 << 3) | 2)
    .bytes(mapEntry('confidence', tensorInfo('StatefulPartitionedCall:0', 1, [-1])))
    .uint32((2 << 3) | 2)
    .bytes(mapEntry('label', tensorInfo('StatefulPartitionedCall:1', 7, [-1])))
    .uint32((3 << 3) | 2)
    .string('tensorflow/serving/predict')
    .finish();
  const metaInfo = protobuf.Writer.create()
    .uint32((1 << 3) | 2)
    .string('')
    .uint32((4 << 3) | 2)
    .string('serve')
    .uint32((5 << 3) | 2)
    .string('2.15.0')
    .uint32((6 << 3) | 2)
    .string('v2.15.0-rc1-8-g6887368d6d4')
    .finish();
  const fakeGraphDef = protobuf.Writer.create()
    .uint32((1 << 3) | 2)
    .bytes(new Uint8Array(5000).fill(7))
    .finish();
  const metaGraph = protobuf.Writer.create()
    .uint32((1 << 3) | 2)
    .bytes(metaInfo)
    .uint32((2 << 3) | 2)
    .bytes(fakeGraphDef)
    .uint32((5 << 3) | 2)
    .bytes(mapEntry('serving_default', signature))
    .uint32((5 << 3) | 2)
    .bytes(mapEntry('__saved_model_init_op', protobuf.Writer.create().finish()))
    .finish();
  return protobuf.Writer.create()
    .uint32((1 << 3) | 0)
    .int64(1)
    .uint32((2 << 3) | 2)
    .bytes(metaGraph)
    .finish();
}

describe('readSavedModel', () => {
  test('reads tags, TensorFlow version and signatures from an independently encoded file', () => {
    const info = readSavedModel(handEncodedSavedModel());
    expect(info.schemaVersion).toBe(1);
    expect(info.metaGraphs).toHaveLength(1);
    const [graph] = info.metaGraphs;
    expect(graph.tags).toEqual(['serve']);
    expect(graph.tensorflowVersion).toBe('2.15.0');
    expect(graph.signatures.serving_default).toEqual({
      methodName: 'tensorflow/serving/predict',
      inputs: { string_input: { name: 'serving_default_string_input:0', dtype: 'DT_STRING', shape: [-1] } },
      outputs: {
        confidence: { name: 'StatefulPartitionedCall:0', dtype: 'DT_FLOAT', shape: [-1] },
        label: { name: 'StatefulPartitionedCall:1', dtype: 'DT_STRING', shape: [-1] },
      },
    });
    expect(checkSignature(info)).toEqual([]);
  });

  test('the writer and the reader agree, and the demo model carries the reference signature', () => {
    const written = readSavedModel(writeSavedModel({ tensorflowVersion: '2.13.1', signatures: { serving_default: REFERENCE_SIGNATURE } }));
    expect(written.metaGraphs[0].tensorflowVersion).toBe('2.13.1');
    expect(checkSignature(written)).toEqual([]);
    const demo = readSavedModel(readFileSync(join(__dirname, '../../../local/demo-model/mnist-vit/saved_model.pb')));
    expect(demo.metaGraphs[0].tags).toEqual(['serve']);
    expect(checkSignature(demo)).toEqual([]);
  });

  describe('anything that is not a SavedModel is a SavedModelFormatError with a reason', () => {
    const valid = handEncodedSavedModel();
    let seed = 12345;
    const random = Uint8Array.from({ length: 4096 }, () => ((seed = (seed * 1103515245 + 12345) % 2147483648) >> 16) & 255);
    const jpeg = Buffer.from(
      'ffd8ffe000104a46494600010100000100010000ffdb004300080606070605080707070909080a0c140d0c0b0b0c1912130f141d1a1f1e1d1a1c1c20242e2720222c231c1c2837292c30313434341f27393d38323c2e333432ffd9',
      'hex',
    );
    const onnx = (() => {
      const g = new OnnxGraph();
      g.node('Identity', [g.input('x', [1])], {}, ['y']);
      g.output('y', [1]);
      return g.encode({ name: 'not-a-savedmodel' });
    })();
    test.each([
      ['an empty file', new Uint8Array(0), /empty/],
      ['random bytes', random, /not a TensorFlow SavedModel/],
      ['a truncated SavedModel', valid.subarray(0, valid.length - 40), /not a TensorFlow SavedModel/],
      ['a JPEG', jpeg, /not a TensorFlow SavedModel/],
      ['an ONNX model (valid protobuf of another shape)', onnx, /not a TensorFlow SavedModel/],
      ['schema version 2', protobuf.Writer.create().uint32(8).int64(2).finish(), /saved_model_schema_version is 2/],
      ['no meta graphs', protobuf.Writer.create().uint32(8).int64(1).finish(), /no meta graphs/],
    ])('%s', (_name, bytes, message) => {
      let thrown: unknown;
      try {
        readSavedModel(bytes);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(SavedModelFormatError);
      expect((thrown as Error).message).toMatch(message);
    });
  });
});

test('no prefix of a SavedModel and no random buffer crashes the reader', () => {
  const valid = handEncodedSavedModel();
  const outcomes = new Set<string>();
  const attempt = (bytes: Uint8Array) => {
    try {
      readSavedModel(bytes);
      outcomes.add('parsed');
    } catch (err) {
      expect(err).toBeInstanceOf(SavedModelFormatError);
      outcomes.add('format error');
    }
  };
  for (let n = 0; n < valid.length; n += 7) attempt(valid.subarray(0, n));
  let seed = 99;
  for (let i = 0; i < 300; i++) {
    attempt(Uint8Array.from({ length: 1 + (i % 97) }, () => ((seed = (seed * 1103515245 + 12345) % 2147483648) >> 16) & 255));
  }
  expect(outcomes.has('format error')).toBe(true);
});

describe('checkSignature explains every mismatch', () => {
  const withSignature = (sig: Parameters<typeof writeSavedModel>[0]['signatures'][string], extra: Partial<Parameters<typeof writeSavedModel>[0]> = {}) =>
    readSavedModel(writeSavedModel({ tensorflowVersion: '2.15.0', signatures: { serving_default: sig }, ...extra }));

  test('wrong dtypes and shapes, one sentence each', () => {
    const problems = checkSignature(
      withSignature({
        inputs: { string_input: { dtype: 'DT_FLOAT', shape: [-1, 224, 224, 3] } },
        outputs: { confidence: { dtype: 'DT_FLOAT', shape: [-1] }, label: { dtype: 'DT_INT64', shape: null } },
      }),
    );
    expect(problems).toEqual([
      "input 'string_input' has dtype DT_FLOAT, expected DT_STRING",
      "input 'string_input' has shape [-1, 224, 224, 3], expected [-1]",
      "output 'label' has dtype DT_INT64, expected DT_STRING",
      "output 'label' has shape unknown rank, expected [-1]",
    ]);
  });

  test('missing and unexpected tensors are named, with what the signature has', () => {
    const problems = checkSignature(
      withSignature({
        inputs: { image_bytes: { dtype: 'DT_STRING', shape: [-1] } },
        outputs: { label: { dtype: 'DT_STRING', shape: [-1] } },
      }),
    );
    expect(problems).toEqual([
      "input 'string_input' is missing (the signature's inputs are 'image_bytes')",
      "unexpected input 'image_bytes' (DT_STRING [-1]); the contract's inputs are 'string_input'",
      "output 'confidence' is missing (the signature's outputs are 'label')",
    ]);
  });

  test('a missing signature, tag or method is explained', () => {
    const other = readSavedModel(writeSavedModel({ tensorflowVersion: '2.15.0', signatures: { predict: REFERENCE_SIGNATURE } }));
    expect(checkSignature(other)).toEqual(["signature 'serving_default' is missing (signatures found: 'predict')"]);
    const untagged = withSignature(REFERENCE_SIGNATURE, { tags: ['train'] });
    expect(checkSignature(untagged)).toEqual(["no meta graph is tagged 'serve' (tags found: [train]); save the model with tags=['serve']"]);
    const classify = withSignature({ ...REFERENCE_SIGNATURE, methodName: 'tensorflow/serving/classify' });
    expect(checkSignature(classify)).toEqual(["signature 'serving_default' has method 'tensorflow/serving/classify', expected 'tensorflow/serving/predict'"]);
  });
});
