/**
 * Jest's node environment runs tests in a separate realm, while onnxruntime-node's native
 * binding creates output tensors with the outer realm's typed arrays; onnxruntime-common's
 * `instanceof Float32Array` check then fails inside the test realm. Sharing the typed array
 * constructors lets ONNX Runtime run in-process under jest (select with @jest-environment).
 */
const { TestEnvironment } = require('jest-environment-node');

const SHARED = ['ArrayBuffer', 'Float32Array', 'Float64Array', 'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array', 'BigInt64Array', 'BigUint64Array'];

class OrtTestEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED) this.global[name] = globalThis[name];
  }
}

module.exports = OrtTestEnvironment;
