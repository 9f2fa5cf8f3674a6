import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { resizeToPlanes, type RawImage } from './bilinear-resize';
import { decodeImage } from './decode-image';
import { readModelConfigs, type Preprocessing } from './hf-config';
import { ImageDecodeError, MissingOnnxModelError, ModelConfigError } from './image-errors';
import { inProcessRunner, type OnnxRunner } from './onnx-runner';
import { threadRunner } from './onnx-thread-runner';
import { softmaxTop1, type Classification } from './softmax-top1';

export type { Classification } from './softmax-top1';

export interface ClassifierOptions {
  /** ONNX Runtime intra-op threads; its default (physical cores) when unset */
  intraOpNumThreads?: number;
  /** images larger than this many pixels are refused before decoding */
  maxPixels?: number;
  /**
   * run the model on a worker thread, keeping the event loop free during a run (servers);
   * by default it runs in the calling thread (scripts, tests)
   */
  thread?: boolean;
}

/**
 * The serving contract of the reference SavedModel, run on the ONNX copy of the model:
 * image bytes -> decode (JPEG/PNG) -> TF bilinear resize -> rescale + mean/std ->
 * channels-first -> one batched ONNX Runtime run -> softmax -> top-1 {label, confidence}.
 */
export class OnnxImageClassifier {
  private constructor(
    private readonly session: OnnxRunner,
    readonly labels: readonly string[],
    private readonly preprocessing: Preprocessing,
    /** the model's input (pixel_values [N,3,H,W] float32) and output (logits [N,classes]) */
    readonly inputName: string,
    readonly outputName: string,
    private readonly maxPixels: number | undefined,
  ) {}

  get inputSize(): { height: number; width: number } {
    return this.preprocessing.size;
  }

  static async load(modelDir: string, opts: ClassifierOptions = {}): Promise<OnnxImageClassifier> {
    const modelPath = join(modelDir, 'model.onnx');
    try {
      await access(modelPath);
    } catch {
      throw new MissingOnnxModelError(modelDir);
    }
    const { labels, preprocessing } = await readModelConfigs(modelDir);
    const session = await (opts.thread ? threadRunner : inProcessRunner)(modelPath, opts.intraOpNumThreads);
    try {
      const inputName = session.inputNames.includes('pixel_values') ? 'pixel_values' : session.inputNames[0];
      const outputName = session.outputNames.includes('logits') ? 'logits' : session.outputNames[0];
      checkShapes(session, inputName, outputName, preprocessing, labels.length);
      return new OnnxImageClassifier(session, labels, preprocessing, inputName, outputName, opts.maxPixels);
    } catch (err) {
      await session.release();
      throw err;
    }
  }

  /** Decodes and preprocesses a batch into the model's input tensor data [N,3,H,W]. */
  async preprocess(images: Uint8Array[]): Promise<Float32Array> {
    return this.toInput(await this.decode(images));
  }

  /** Decodes a batch (sharp, off the event loop); the first image that cannot be decoded fails it. */
  async decode(images: Uint8Array[]): Promise<RawImage[]> {
    const settled = await Promise.allSettled(images.map((bytes) => decodeImage(bytes, { maxPixels: this.maxPixels })));
    return settled.map((r, index) => {
      if (r.status === 'rejected') throw new ImageDecodeError(index, (r.reason as Error).message);
      return r.value;
    });
  }

  /** Resizes and normalizes decoded images into the model's input tensor data [N,3,H,W] (on the calling thread). */
  toInput(decoded: readonly RawImage[]): Float32Array {
    const { height, width } = this.preprocessing.size;
    const per = 3 * height * width;
    const out = new Float32Array(decoded.length * per);
    decoded.forEach((img, index) => this.writeImage(img, index, out, index * per));
    return out;
  }

  /** Runs the model on preprocessed input and returns the raw logits [N, classes]. */
  async logits(input: Float32Array, batch: number): Promise<Float32Array> {
    const { height, width } = this.preprocessing.size;
    return this.session.run(this.inputName, this.outputName, input, [batch, 3, height, width]);
  }

  async classify(images: Uint8Array[]): Promise<Classification[]> {
    if (images.length === 0) return [];
    const logits = await this.logits(await this.preprocess(images), images.length);
    const classes = this.labels.length;
    return images.map((_, row) => softmaxTop1(logits, row, classes, this.labels));
  }

  async close(): Promise<void> {
    await this.session.release();
  }

  private writeImage(img: RawImage, index: number, out: Float32Array, offset: number): void {
    const { size, doResize, scale, offset: shift } = this.preprocessing;
    if (!doResize && (img.width !== size.width || img.height !== size.height)) {
      throw new ImageDecodeError(index, `image is ${img.width}x${img.height}; this model takes exactly ${size.width}x${size.height} (do_resize is false)`);
    }
    resizeToPlanes(img, size.width, size.height, scale, shift, out, offset);
  }
}

function checkShapes(session: OnnxRunner, inputName: string, outputName: string, p: Preprocessing, classes: number): void {
  const input = session.inputMetadata.find((m) => m.name === inputName);
  const output = session.outputMetadata.find((m) => m.name === outputName);
  const fixed = (d: number | string | undefined): number | null => (typeof d === 'number' && d > 0 ? d : null);
  if (input?.isTensor) {
    if (input.type !== 'float32') throw new ModelConfigError(`model input '${inputName}' is ${input.type}, expected float32 pixel values`);
    const [, c, h, w] = input.shape;
    if (input.shape.length !== 4 || (fixed(c) !== null && c !== 3)) {
      throw new ModelConfigError(`model input '${inputName}' has shape [${input.shape.join(',')}], expected [N,3,H,W]`);
    }
    if ((fixed(h) !== null && h !== p.size.height) || (fixed(w) !== null && w !== p.size.width)) {
      throw new ModelConfigError(`model input '${inputName}' takes ${h}x${w} but preprocessor_config.json resizes to ${p.size.height}x${p.size.width}`);
    }
  }
  if (output?.isTensor) {
    const last = fixed(output.shape[output.shape.length - 1]);
    if (last !== null && last !== classes) {
      throw new ModelConfigError(`model output '${outputName}' has ${last} classes but config.json id2label has ${classes}`);
    }
  }
}
