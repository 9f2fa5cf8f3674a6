import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSavedModel } from '#shared/savedmodel/read-saved-model';
import { checkSignature } from '#shared/savedmodel/signature-check';
import { validateVersion } from '#shared/deployment/validate-version';
import { chooseServing } from '#shared/deployment/core/container-image';
import { sharedFixture } from '../../support/shared-fixtures';

/**
 * TensorFlow Serving's saved_model_half_plus_two_cpu, written by TensorFlow itself (a full
 * graph, a real checkpoint): the reader must handle what TensorFlow really writes.
 */
const bytes = readFileSync(join(sharedFixture('tf-saved-model-half-plus-two'), 'saved_model.pb'));

describe('the SavedModel reader on a SavedModel TensorFlow wrote', () => {
  it('parses it, with its tags and TensorFlow version', () => {
    // Act
    const info = readSavedModel(bytes);
    // Assess
    expect(info.schemaVersion).toBe(1);
    expect(info.metaGraphs).toHaveLength(1);
    expect(info.metaGraphs[0]!.tags).toEqual(['serve']);
    expect(info.metaGraphs[0]!.tensorflowVersion).toBe('1.14.0');
  });

  it('lists every signature with its method, inputs and outputs', () => {
    const { signatures } = readSavedModel(bytes).metaGraphs[0]!;
    expect(Object.keys(signatures).sort()).toEqual(['classify_x_to_y', 'regress_x2_to_y3', 'regress_x_to_y', 'regress_x_to_y2', 'serving_default']);
    expect(signatures.serving_default).toEqual({
      methodName: 'tensorflow/serving/predict',
      inputs: { x: { name: 'x:0', dtype: 'DT_FLOAT', shape: [-1, 1] } },
      outputs: { y: { name: 'y:0', dtype: 'DT_FLOAT', shape: [-1, 1] } },
    });
    expect(signatures.classify_x_to_y).toEqual({
      methodName: 'tensorflow/serving/classify',
      inputs: { inputs: { name: 'tf_example:0', dtype: 'DT_STRING', shape: null } },
      outputs: { scores: { name: 'y:0', dtype: 'DT_FLOAT', shape: [-1, 1] } },
    });
    expect(signatures.regress_x2_to_y3!.inputs.inputs).toEqual({ name: 'x2:0', dtype: 'DT_FLOAT', shape: [-1, 1] });
    expect(signatures.regress_x_to_y2!.outputs.outputs!.name).toBe('y2:0');
  });

  it("names each way serving_default differs from dropship's contract", () => {
    const problems = checkSignature(readSavedModel(bytes));
    expect(problems).toEqual([
      "input 'string_input' is missing (the signature's inputs are 'x')",
      "unexpected input 'x' (DT_FLOAT [-1, 1]); the contract's inputs are 'string_input'",
      "output 'confidence' is missing (the signature's outputs are 'y')",
      "output 'label' is missing (the signature's outputs are 'y')",
      "unexpected output 'y' (DT_FLOAT [-1, 1]); the contract's outputs are 'confidence', 'label'",
    ]);
  });

  it('fails validation on the signature, not on parsing', () => {
    const v = validateVersion({ savedModel: bytes, deployJson: undefined, location: 'us-central1', now: new Date('2026-12-01T00:00:00Z') });
    expect(v.ok).toBe(false);
    expect(!v.ok && v.reason).toMatch(/^the SavedModel's serving signature does not match the contract: .*'string_input' is missing.*unexpected input 'x' \(DT_FLOAT/);
    expect(!v.ok && v.reason).not.toContain('not a readable SavedModel');
  });

  it('would be served on TensorFlow Serving (TF 1.14 has no prebuilt tf2 image), given the mirrored image', () => {
    const tensorflowVersion = readSavedModel(bytes).metaGraphs[0]!.tensorflowVersion;
    const base = { tensorflowVersion, accelerated: false, location: 'us-central1', now: new Date('2026-12-01T00:00:00Z') };
    expect(chooseServing({ ...base, tfServingImage: 'us-central1-docker.pkg.dev/p/m/tensorflow/serving:2.19.1' })).toMatchObject({ ok: true, serving: 'tf-serving' });
    expect(chooseServing(base)).toMatchObject({ ok: false, reason: expect.stringContaining('TensorFlow 1.14.0, which has no prebuilt Vertex AI image') });
  });
});
