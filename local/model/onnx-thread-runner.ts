import { Worker } from 'node:worker_threads';
import type * as ort from 'onnxruntime-node';
import { sessionOptions, type OnnxRunner } from './onnx-runner';

/**
 * The session on a worker thread of its own. onnxruntime-node runs a session synchronously on
 * the thread that calls it, so a server holding its model on the main thread answers nothing
 * else (no gRPC, no Cloud Storage reads in the same process) for the whole run. Here the
 * event loop stays free: it decodes and resizes the next request while this one runs.
 *
 * The thread's code is plain CommonJS evaluated from a string and loads onnxruntime-node by
 * its resolved path, so it runs the same under tsx, jest and the compiled output.
 */
const THREAD_CODE = `
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.ortPath);
const message = (e) => (e && e.message) || String(e);
ort.InferenceSession.create(workerData.modelPath, workerData.options).then(
  (session) => {
    let released = false;
    parentPort.postMessage({ type: 'ready', inputNames: session.inputNames, outputNames: session.outputNames, inputMetadata: session.inputMetadata, outputMetadata: session.outputMetadata });
    parentPort.on('message', async (m) => {
      if (m.type === 'release') {
        if (!released) {
          released = true;
          await session.release();
        }
        parentPort.postMessage({ type: 'released' });
        return;
      }
      if (released) {
        parentPort.postMessage({ type: 'result', id: m.id, error: 'the session was released' });
        return;
      }
      try {
        const out = await session.run({ [m.inputName]: new ort.Tensor('float32', m.data, m.dims) }, [m.outputName]);
        const data = Float32Array.from(out[m.outputName].data);
        parentPort.postMessage({ type: 'result', id: m.id, data }, [data.buffer]);
      } catch (e) {
        parentPort.postMessage({ type: 'result', id: m.id, error: message(e) });
      }
    });
  },
  (e) => parentPort.postMessage({ type: 'failed', error: message(e) }),
);
`;

type FromThread =
  | { type: 'ready'; inputNames: string[]; outputNames: string[]; inputMetadata: ort.InferenceSession.ValueMetadata[]; outputMetadata: ort.InferenceSession.ValueMetadata[] }
  | { type: 'failed'; error: string }
  | { type: 'result'; id: number; data?: Float32Array; error?: string }
  | { type: 'released' };

export async function threadRunner(modelPath: string, intraOpNumThreads?: number): Promise<OnnxRunner> {
  const worker = new Worker(THREAD_CODE, {
    eval: true,
    workerData: { ortPath: require.resolve('onnxruntime-node'), modelPath, options: sessionOptions(intraOpNumThreads) },
  });
  // A runner nobody released must not keep the process alive.
  worker.unref();
  const pending = new Map<number, { resolve: (d: Float32Array) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  let dead: Error | undefined;
  let onReleased: (() => void) | undefined;
  let releasing: Promise<void> | undefined;

  const ready = new Promise<Extract<FromThread, { type: 'ready' }>>((resolve, reject) => {
    const fail = (err: Error) => {
      dead = err;
      reject(err);
      for (const p of pending.values()) p.reject(err);
      pending.clear();
      onReleased?.();
    };
    worker.on('error', fail);
    // a message that cannot be deserialized would leave its run pending forever
    worker.on('messageerror', fail);
    worker.on('exit', (code) => fail(new Error(`the ONNX Runtime thread exited (code ${code})`)));
    worker.on('message', (m: FromThread) => {
      if (m.type === 'ready') resolve(m);
      else if (m.type === 'failed') {
        reject(new Error(m.error));
        void worker.terminate();
      } else if (m.type === 'released') onReleased?.();
      else {
        const p = pending.get(m.id);
        pending.delete(m.id);
        if (m.error !== undefined) p?.reject(new Error(m.error));
        else p?.resolve(m.data!);
      }
    });
  });
  const meta = await ready;

  return {
    inputNames: meta.inputNames,
    outputNames: meta.outputNames,
    inputMetadata: meta.inputMetadata,
    outputMetadata: meta.outputMetadata,
    run(inputName, outputName, data, dims) {
      if (dead) return Promise.reject(dead);
      const id = nextId++;
      return new Promise<Float32Array>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        // Copied, not transferred: the caller keeps its buffer (it may be a view of a larger one).
        worker.postMessage({ type: 'run', id, inputName, outputName, data, dims: [...dims] });
      });
    },
    release() {
      // Once: a second call (a pool closing a server it is replacing, then closing everything)
      // waits for the first instead of hanging on a reply that was already consumed.
      releasing ??= dead
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            onReleased = resolve;
            worker.postMessage({ type: 'release' });
          }).then(async () => {
            await worker.terminate();
          });
      return releasing;
    },
  };
}
