/**
 * jest's node environment runs tests in a separate realm with its own typed array
 * constructors, while onnxruntime-node's native binding returns outputs built in the main
 * realm; onnxruntime-common's `instanceof Float32Array` check then fails ("A float32 tensor's
 * data must be type of function Float32Array()"). Sharing the main realm's constructors makes
 * both sides agree. It is the default environment of every test file (jest.config.js).
 */
const { TestEnvironment } = require('jest-environment-node');

const SHARED = [
  'ArrayBuffer',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
];

class OnnxEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED) this.global[name] = globalThis[name];
  }
}

module.exports = OnnxEnvironment;
