import * as tf from '@tensorflow/tfjs';
import { setThreadsCount } from '@tensorflow/tfjs-backend-wasm';

/**
 * tfjs on the WebAssembly backend, single-threaded: ~6x faster than the pure-JS backend and
 * bit-reproducible. Tensors must only be created after this resolves.
 */
export async function wasmTf(): Promise<typeof tf> {
  setThreadsCount(1);
  if (!(await tf.setBackend('wasm'))) throw new Error('the tfjs wasm backend failed to start');
  await tf.ready();
  return tf;
}
