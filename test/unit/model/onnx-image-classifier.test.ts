import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { OnnxGraph } from '#local/model-build/onnx/onnx-graph';
import { ImageDecodeError, MissingOnnxModelError, ModelConfigError } from '#local/model/image-errors';
import { OnnxImageClassifier } from '#local/model/onnx-image-classifier';

/**
 * A 3-class model on 2x2 images whose logits are three of its input values:
 * red = R(0,0), green = G(0,1), blue = B(1,1); so every step of the contract is visible.
 */
async function writeProbeModel(dir: string, opts: { modelSize?: number; preprocessSize?: number } = {}): Promise<void> {
  const size = opts.modelSize ?? 2;
  const g = new OnnxGraph();
  const x = g.input('pixel_values', ['batch', 3, size, size]);
  const flat = g.node('Reshape', [x, g.int64s([-1, 3 * size * size])]);
  const w = new Float32Array(3 * size * size * 3);
  const pick = (c: number, y: number, xx: number, cls: number) => (w[((c * size + y) * size + xx) * 3 + cls] = 1);
  pick(0, 0, 0, 0);
  pick(1, 0, 1, 1);
  pick(2, 1, 1, 2);
  g.node('MatMul', [flat, g.floats('w', [3 * size * size, 3], w)], {}, ['logits']);
  g.output('logits', ['batch', 3]);
  await writeFile(join(dir, 'model.onnx'), g.encode({ name: 'probe' }));
  await writeFile(join(dir, 'config.json'), JSON.stringify({ id2label: { '0': 'red', '1': 'green', '2': 'blue' } }));
  const p = opts.preprocessSize ?? size;
  await writeFile(
    join(dir, 'preprocessor_config.json'),
    JSON.stringify({ do_resize: true, size: { height: p, width: p }, do_rescale: true, rescale_factor: 1 / 255, do_normalize: true, image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5] }),
  );
}

/** A 4x4 RGB(A) PNG whose four 2x2 blocks are the given colours (TL, TR, BL, BR). */
function blocksPng(colours: number[][], channels: 3 | 4 = 3): Promise<Buffer> {
  const data = Buffer.alloc(4 * 4 * channels);
  for (let y = 0; y < 4; y++)
    for (let x = 0; x < 4; x++) {
      const colour = colours[(y >> 1) * 2 + (x >> 1)];
      for (let c = 0; c < channels; c++) data[(y * 4 + x) * channels + c] = c < 3 ? colour[c] : 0;
    }
  return sharp(data, { raw: { width: 4, height: 4, channels } })
    .png()
    .toBuffer();
}

const norm = (v: number) => (v / 255 - 0.5) / 0.5;
const softmax = (xs: number[]) => {
  const e = xs.map(Math.exp);
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};

describe('OnnxImageClassifier (the serving contract)', () => {
  let dir: string;
  let classifier: OnnxImageClassifier;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'classifier-'));
    await writeProbeModel(dir);
    classifier = await OnnxImageClassifier.load(dir, { intraOpNumThreads: 1 });
  });
  afterAll(async () => {
    await classifier.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('reads labels and input size from the Hugging Face files', () => {
    expect(classifier.labels).toEqual(['red', 'green', 'blue']);
    expect(classifier.inputSize).toEqual({ height: 2, width: 2 });
  });

  test('a PNG is decoded, halved by bilinear resize, scaled to [-1, 1], channels-first', async () => {
    const colours = [
      [0, 10, 20],
      [255, 128, 64],
      [1, 2, 3],
      [100, 200, 250],
    ];
    const input = await classifier.preprocess([await blocksPng(colours)]);
    // 4 -> 2 samples source coordinate 0.5 and 2.5: the middle of each uniform 2x2 block
    const expected: number[] = [];
    for (let c = 0; c < 3; c++) for (let b = 0; b < 4; b++) expected.push(norm(colours[b][c]));
    expect(Array.from(input)).toEqual(expected.map((v) => expect.closeTo(v, 6)));
  });

  test('alpha is dropped and a gray JPEG fills all three channels', async () => {
    const rgba = await classifier.preprocess([
      await blocksPng(
        [
          [9, 9, 9],
          [9, 9, 9],
          [9, 9, 9],
          [9, 9, 9],
        ],
        4,
      ),
    ]);
    expect(rgba.length).toBe(12);
    const gray = await sharp(Buffer.alloc(16 * 16, 200), { raw: { width: 16, height: 16, channels: 1 } })
      .jpeg({ quality: 95 })
      .toBuffer();
    const out = await classifier.preprocess([gray]);
    // a flat JPEG decodes to within a grey level of its value
    for (const v of out) expect(Math.abs(v - norm(200))).toBeLessThan(2.5 / 127.5);
  });

  test('a batch of images runs as one call and each gets softmax top-1 of its own logits', async () => {
    const images = [
      await blocksPng([
        [255, 0, 0],
        [0, 0, 0],
        [0, 0, 0],
        [0, 0, 0],
      ]), // R at (0,0): red
      await blocksPng([
        [0, 0, 0],
        [0, 255, 0],
        [0, 0, 0],
        [0, 0, 0],
      ]), // G at (0,1): green
      await blocksPng([
        [0, 0, 0],
        [0, 0, 0],
        [0, 0, 0],
        [0, 0, 200],
      ]), // B at (1,1): blue
    ];
    const results = await classifier.classify(images);
    expect(results.map((r) => r.label)).toEqual(['red', 'green', 'blue']);
    expect(results[0].confidence).toBeCloseTo(softmax([1, -1, -1])[0], 5);
    expect(results[2].confidence).toBeCloseTo(softmax([-1, -1, norm(200)])[2], 5);
  });

  test('an empty batch returns nothing', async () => {
    await expect(classifier.classify([])).resolves.toEqual([]);
  });

  test('a bad image throws ImageDecodeError naming its position and the problem', async () => {
    const good = await blocksPng([
      [1, 1, 1],
      [1, 1, 1],
      [1, 1, 1],
      [1, 1, 1],
    ]);
    const cases: Array<[Uint8Array, RegExp]> = [
      [new Uint8Array(0), /empty/],
      [Buffer.from('hello, not an image'), /not a JPEG or PNG/],
      [good.subarray(0, good.length - 20), /cannot decode PNG/],
      [Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 1, 2, 3]), /cannot decode JPEG/],
    ];
    for (const [bad, message] of cases) {
      const err = await classifier.classify([good, bad]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ImageDecodeError);
      expect((err as ImageDecodeError).index).toBe(1);
      expect((err as Error).message).toMatch(message);
    }
  });

  test('a folder without model.onnx says how to export one', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'no-onnx-'));
    const err = await OnnxImageClassifier.load(empty).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingOnnxModelError);
    expect((err as Error).message).toMatch(/no model\.onnx .*export/i);
    await rm(empty, { recursive: true, force: true });
  });

  test('a model whose input size disagrees with preprocessor_config.json is refused', async () => {
    const other = await mkdtemp(join(tmpdir(), 'mismatch-'));
    await writeProbeModel(other, { modelSize: 2, preprocessSize: 3 });
    await expect(OnnxImageClassifier.load(other)).rejects.toThrow(ModelConfigError);
    await rm(other, { recursive: true, force: true });
  });
});
