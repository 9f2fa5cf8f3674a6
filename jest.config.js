/** @type {import('jest').Config} */
module.exports = {
  // node, with the main realm's typed arrays so onnxruntime-node runs in-process
  testEnvironment: '<rootDir>/test/support/onnx-environment.js',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': 'ts-jest' },
  moduleNameMapper: { '^#(shared|functions|local|test)/(.*)$': '<rootDir>/$1/$2' },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 120000,
  maxWorkers: 2,
  forceExit: true,
};
