import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OnnxGraph } from '#local/model-build/onnx/onnx-graph';
import { inProcessRunner, type OnnxRunner } from '#local/model/onnx-runner';
import { threadRunner } from '#local/model/onnx-thread-runner';

/** y = x W + 1 for x [N,4] and a fixed W [4,3]. */
async function writeAffineModel(path: string): Promise<void> {
  const g = new OnnxGraph();
  const x = g.input('x', ['batch', 4]);
  const w = Float32Array.from({ length: 12 }, (_, i) => (i % 5) - 2);
  const xw = g.node('MatMul', [x, g.floats('w', [4, 3], w)]);
  g.node('Add', [xw, g.floats('b', [3], new Float32Array([1, 1, 1]))], {}, ['y']);
  g.output('y', ['batch', 3]);
  await writeFile(path, g.encode({ name: 'affine' }));
}

describe('threadRunner (ONNX Runtime on a worker thread)', () => {
  let dir: string;
  let modelPath: string;
  let local: OnnxRunner;
  let threaded: OnnxRunner;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'thread-runner-'));
    modelPath = join(dir, 'model.onnx');
    await writeAffineModel(modelPath);
    local = await inProcessRunner(modelPath, 1);
    threaded = await threadRunner(modelPath, 1);
  });
  afterAll(async () => {
    await Promise.all([local.release(), threaded.release()]);
    await rm(dir, { recursive: true, force: true });
  });

  test('reports the same names and metadata as a session in this thread', () => {
    expect(threaded.inputNames).toEqual(['x']);
    expect(threaded.outputNames).toEqual(['y']);
    expect(threaded.inputMetadata).toEqual(local.inputMetadata);
    expect(threaded.outputMetadata).toEqual(local.outputMetadata);
  });

  test('computes what the session in this thread computes, for concurrent runs of different sizes', async () => {
    const inputs = [1, 3, 8].map((n) => Float32Array.from({ length: n * 4 }, (_, i) => Math.sin(i + n)));
    const [expected, got] = await Promise.all([
      Promise.all(inputs.map((d) => local.run('x', 'y', d, [d.length / 4, 4]))),
      Promise.all(inputs.map((d) => threaded.run('x', 'y', d, [d.length / 4, 4]))),
    ]);
    got.forEach((g, i) => {
      expect(g).toBeInstanceOf(Float32Array);
      expect(Array.from(g)).toEqual(Array.from(expected[i]!));
    });
    // the caller keeps its input (copied to the thread, not transferred)
    expect(inputs[0]!.length).toBe(4);
  });

  test('a failing run rejects with ONNX Runtime’s message and the next run still works', async () => {
    await expect(threaded.run('x', 'y', new Float32Array(5), [1, 5])).rejects.toThrow(/dimension|shape|Got invalid/i);
    const ok = await threaded.run('x', 'y', new Float32Array(4), [1, 4]);
    expect(Array.from(ok)).toEqual([1, 1, 1]);
  });

  test('a file that is not a model fails to load with ONNX Runtime’s reason', async () => {
    const bad = join(dir, 'bad.onnx');
    await writeFile(bad, 'not a model');
    await expect(threadRunner(bad)).rejects.toThrow(/protobuf|parsing|Load model/i);
  });

  test('after release a run rejects instead of hanging; releasing twice at once settles both', async () => {
    const r = await threadRunner(modelPath, 1);
    await Promise.all([r.release(), r.release()]);
    await r.release();
    await expect(r.run('x', 'y', new Float32Array(4), [1, 4])).rejects.toThrow(/exited/);
  });
});
