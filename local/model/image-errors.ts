import { PermanentError } from '#shared/errors';

/** An image in a batch that cannot be decoded (not an image, truncated, empty, too large). */
export class ImageDecodeError extends PermanentError {
  constructor(
    readonly index: number,
    message: string,
  ) {
    super(`image ${index}: ${message}`, 'BAD_IMAGE');
    this.name = 'ImageDecodeError';
  }
}

/** A model folder that has a SavedModel but not the ONNX copy the local runtime needs. */
export class MissingOnnxModelError extends PermanentError {
  constructor(readonly modelDir: string) {
    super(
      `no model.onnx in ${modelDir}: the local runtime runs the ONNX copy of a SavedModel. ` +
        'Export one beside saved_model.pb, e.g. `python -m tf2onnx.convert --saved-model DIR --output DIR/model.onnx --opset 17` ' +
        '(or, for a Hugging Face model, `optimum-cli export onnx --model <id> DIR`), together with config.json (id2label) ' +
        'and preprocessor_config.json; see docs/model.md.',
      'MISSING_ONNX_MODEL',
    );
    this.name = 'MissingOnnxModelError';
  }
}

/** config.json / preprocessor_config.json missing or not in the Hugging Face shape. */
export class ModelConfigError extends PermanentError {
  constructor(message: string) {
    super(message, 'BAD_MODEL_CONFIG');
    this.name = 'ModelConfigError';
  }
}
