import * as ort from 'onnxruntime-node';

/** What the classifier needs of an ONNX Runtime session, wherever the session lives. */
export interface OnnxRunner {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: readonly ort.InferenceSession.ValueMetadata[];
  readonly outputMetadata: readonly ort.InferenceSession.ValueMetadata[];
  /** runs the model on one float32 input and returns one float32 output */
  run(inputName: string, outputName: string, data: Float32Array, dims: readonly number[]): Promise<Float32Array>;
  release(): Promise<void>;
}

/** The session options every runner of this project uses: one request runs at a time with all its threads. */
export function sessionOptions(intraOpNumThreads?: number): ort.InferenceSession.SessionOptions {
  return {
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    interOpNumThreads: 1,
    ...(intraOpNumThreads ? { intraOpNumThreads } : {}),
  };
}

/**
 * The session in the calling thread. onnxruntime-node's `run` is synchronous under its promise:
 * the event loop is blocked for the whole run, which is fine for scripts and tests.
 */
export async function inProcessRunner(modelPath: string, intraOpNumThreads?: number): Promise<OnnxRunner> {
  const session = await ort.InferenceSession.create(modelPath, sessionOptions(intraOpNumThreads));
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    inputMetadata: session.inputMetadata,
    outputMetadata: session.outputMetadata,
    async run(inputName, outputName, data, dims) {
      const result = await session.run({ [inputName]: new ort.Tensor('float32', data, dims) }, [outputName]);
      return result[outputName]!.data as Float32Array;
    },
    release: () => session.release(),
  };
}
