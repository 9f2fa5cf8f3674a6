import { axisTable, resizeToPlanes, type RawImage } from '#local/model/bilinear-resize';

/**
 * Reference: TensorFlow's ResizeBilinear (half_pixel_centers=True) evaluated per output pixel
 * as a weighted sum over the four clamped neighbours, with no tables. TensorFlow computes the
 * source coordinate in float32 (which moves it by up to ~1e-4 px at 640 px), so does this.
 */
const f32 = Math.fround;
const sourceCoord = (o: number, inSize: number, outSize: number): number => f32(f32(f32(o + 0.5) * f32(inSize / outSize)) - 0.5);
function referenceResize(img: RawImage, outW: number, outH: number): number[][][] {
  const src = (x: number, y: number, c: number): number => {
    const cx = Math.min(Math.max(x, 0), img.width - 1);
    const cy = Math.min(Math.max(y, 0), img.height - 1);
    return img.data[(cy * img.width + cx) * img.channels + (img.channels === 1 ? 0 : c)];
  };
  const planes: number[][][] = [];
  for (let c = 0; c < 3; c++) {
    const plane: number[][] = [];
    for (let oy = 0; oy < outH; oy++) {
      const row: number[] = [];
      const sy = sourceCoord(oy, img.height, outH);
      const y0 = Math.floor(sy);
      const wy = sy - y0;
      for (let ox = 0; ox < outW; ox++) {
        const sx = sourceCoord(ox, img.width, outW);
        const x0 = Math.floor(sx);
        const wx = sx - x0;
        row.push((1 - wy) * (1 - wx) * src(x0, y0, c) + (1 - wy) * wx * src(x0 + 1, y0, c) + wy * (1 - wx) * src(x0, y0 + 1, c) + wy * wx * src(x0 + 1, y0 + 1, c));
      }
      plane.push(row);
    }
    planes.push(plane);
  }
  return planes;
}

function resize(img: RawImage, outW: number, outH: number, scale = [1, 1, 1], offset = [0, 0, 0]): Float32Array {
  const out = new Float32Array(3 * outW * outH);
  resizeToPlanes(img, outW, outH, scale, offset, out, 0);
  return out;
}

function seededBytes(n: number, seed: number): Uint8Array {
  let s = seed;
  return Uint8Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s >> 23;
  });
}

describe('TensorFlow bilinear resize (half-pixel centers, no antialias)', () => {
  test('upscales 2x2 to 4x4 as tf.image.resize does', () => {
    const img = { data: Uint8Array.of(0, 10, 20, 30), width: 2, height: 2, channels: 1 };
    const out = Array.from(resize(img, 4, 4).subarray(0, 16));
    // tf.image.resize([[0,10],[20,30]], [4,4]), worked by hand: source coords -0.25, 0.25, 0.75, 1.25
    expect(out).toEqual([0, 2.5, 7.5, 10, 5, 7.5, 12.5, 15, 15, 17.5, 22.5, 25, 20, 22.5, 27.5, 30]);
  });

  test('shrinking does not smooth: 4 pixels to 1 reads only the middle two', () => {
    const img = { data: Uint8Array.of(200, 10, 30, 250), width: 4, height: 1, channels: 1 };
    // source x = (0 + 0.5) * 4 - 0.5 = 1.5: halfway between pixels 1 and 2; 0 and 3 are ignored
    expect(resize(img, 1, 1)[0]).toBeCloseTo(20, 6);
  });

  test('same size is the identity', () => {
    const data = seededBytes(5 * 7 * 3, 7);
    const out = resize({ data, width: 5, height: 7, channels: 3 }, 5, 7);
    for (let c = 0; c < 3; c++) for (let i = 0; i < 35; i++) expect(out[c * 35 + i]).toBe(data[i * 3 + c]);
  });

  test.each([
    [640, 480, 224, 224],
    [37, 23, 28, 28],
    [13, 17, 40, 31],
    [224, 224, 28, 28],
  ])('matches the per-pixel reference for %ix%i -> %ix%i RGB', (w, h, outW, outH) => {
    const img = { data: seededBytes(w * h * 3, w * 31 + h), width: w, height: h, channels: 3 };
    const out = resize(img, outW, outH);
    const ref = referenceResize(img, outW, outH);
    let maxDiff = 0;
    for (let c = 0; c < 3; c++) for (let y = 0; y < outH; y++) for (let x = 0; x < outW; x++) maxDiff = Math.max(maxDiff, Math.abs(out[(c * outH + y) * outW + x] - ref[c][y][x]));
    // float32 output against float64 weights
    expect(maxDiff).toBeLessThan(1e-3);
  });

  test('gray images fill all three planes; the affine maps 0 -> -1 and 255 -> 1 per channel', () => {
    const img = { data: Uint8Array.of(0, 255, 255, 0), width: 2, height: 2, channels: 1 };
    const out = resize(img, 2, 2, [2 / 255, 2 / 255, 2 / 255], [-1, -1, -1]);
    expect(Array.from(out)).toEqual([-1, 1, 1, -1, -1, 1, 1, -1, -1, 1, 1, -1].map((v) => expect.closeTo(v, 6)));
  });

  test('planes are channels-first: R, then G, then B', () => {
    const img = { data: Uint8Array.of(10, 20, 30, 40, 50, 60), width: 2, height: 1, channels: 3 };
    expect(Array.from(resize(img, 2, 1))).toEqual([10, 40, 20, 50, 30, 60]);
  });

  test('axis table clamps both ends like TensorFlow', () => {
    const t = axisTable(2, 4);
    expect(Array.from(t.lower)).toEqual([0, 0, 0, 1]);
    expect(Array.from(t.upper)).toEqual([0, 1, 1, 1]);
    expect(Array.from(t.lerp)).toEqual([0.75, 0.25, 0.75, 0.25]);
  });
});
