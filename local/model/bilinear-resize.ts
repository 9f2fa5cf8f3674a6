/**
 * TensorFlow's bilinear resize (tf.image.resize, method bilinear, antialias False, which runs
 * ResizeBilinear with half_pixel_centers=True), fused with the per-channel affine that
 * rescales and normalizes, writing channels-first float32 straight into a batch buffer.
 * sharp's own resizers smooth when shrinking, so they do not match TensorFlow.
 *
 * TF's rule, per axis, computed in float32: scale = in/out; in(i) = (i + 0.5) * scale - 0.5;
 * lower = max(floor(in), 0); upper = min(ceil(in), in - 1); lerp = in - floor(in);
 * value = top + (bottom - top) * yLerp with top/bottom interpolated along x the same way.
 * Interpolating the 8-bit values and then applying the affine equals TF's order (resize,
 * then /255, then -mean/std) because the weights of each interpolation sum to 1.
 */

export interface AxisTable {
  lower: Int32Array;
  upper: Int32Array;
  lerp: Float32Array;
}

const f32 = Math.fround;

export function axisTable(inSize: number, outSize: number): AxisTable {
  const scale = f32(inSize / outSize);
  const lower = new Int32Array(outSize);
  const upper = new Int32Array(outSize);
  const lerp = new Float32Array(outSize);
  for (let i = 0; i < outSize; i++) {
    const pos = f32(f32(f32(i + 0.5) * scale) - 0.5);
    const floor = Math.floor(pos);
    lower[i] = Math.max(floor, 0);
    upper[i] = Math.min(Math.ceil(pos), inSize - 1);
    lerp[i] = pos - floor;
  }
  return { lower, upper, lerp };
}

// Images in one deployment usually share a few sizes; keep their tables.
const tableCache = new Map<string, AxisTable>();
const TABLE_CACHE_LIMIT = 256;

function cachedAxisTable(inSize: number, outSize: number): AxisTable {
  const key = `${inSize}>${outSize}`;
  let t = tableCache.get(key);
  if (!t) {
    if (tableCache.size >= TABLE_CACHE_LIMIT) tableCache.delete(tableCache.keys().next().value!);
    t = axisTable(inSize, outSize);
    tableCache.set(key, t);
  }
  return t;
}

export interface RawImage {
  /** interleaved 8-bit pixels, `channels` per pixel (1 = gray, replicated to RGB; 3 = RGB) */
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

/**
 * Resizes `img` to outWidth x outHeight and writes 3 planes (R, G, B) of
 * `pixel * scale[c] + offset[c]` into `out` starting at `outOffset`.
 */
export function resizeToPlanes(img: RawImage, outWidth: number, outHeight: number, scale: readonly number[], offset: readonly number[], out: Float32Array, outOffset: number): void {
  const { data, width, height, channels } = img;
  if (channels !== 1 && channels !== 3) throw new Error(`resizeToPlanes takes 1 or 3 channels, got ${channels}`);
  const xs = cachedAxisTable(width, outWidth);
  const ys = cachedAxisTable(height, outHeight);
  const plane = outWidth * outHeight;
  const rowStride = width * channels;
  const s0 = scale[0],
    s1 = scale[1],
    s2 = scale[2];
  const o0 = offset[0],
    o1 = offset[1],
    o2 = offset[2];
  const xl = xs.lower,
    xu = xs.upper,
    xw = xs.lerp;
  for (let y = 0; y < outHeight; y++) {
    const top = ys.lower[y] * rowStride;
    const bottom = ys.upper[y] * rowStride;
    const ly = ys.lerp[y];
    let o = outOffset + y * outWidth;
    if (channels === 3) {
      for (let x = 0; x < outWidth; x++, o++) {
        const l = xl[x] * 3,
          u = xu[x] * 3,
          lx = xw[x];
        const tl0 = data[top + l],
          tr0 = data[top + u],
          bl0 = data[bottom + l],
          br0 = data[bottom + u];
        const tl1 = data[top + l + 1],
          tr1 = data[top + u + 1],
          bl1 = data[bottom + l + 1],
          br1 = data[bottom + u + 1];
        const tl2 = data[top + l + 2],
          tr2 = data[top + u + 2],
          bl2 = data[bottom + l + 2],
          br2 = data[bottom + u + 2];
        const t0 = tl0 + (tr0 - tl0) * lx,
          t1 = tl1 + (tr1 - tl1) * lx,
          t2 = tl2 + (tr2 - tl2) * lx;
        out[o] = (t0 + (bl0 + (br0 - bl0) * lx - t0) * ly) * s0 + o0;
        out[o + plane] = (t1 + (bl1 + (br1 - bl1) * lx - t1) * ly) * s1 + o1;
        out[o + 2 * plane] = (t2 + (bl2 + (br2 - bl2) * lx - t2) * ly) * s2 + o2;
      }
    } else {
      for (let x = 0; x < outWidth; x++, o++) {
        const l = xl[x],
          u = xu[x],
          lx = xw[x];
        const tl = data[top + l],
          tr = data[top + u];
        const bl = data[bottom + l],
          br = data[bottom + u];
        const t = tl + (tr - tl) * lx;
        const v = t + (bl + (br - bl) * lx - t) * ly;
        out[o] = v * s0 + o0;
        out[o + plane] = v * s1 + o1;
        out[o + 2 * plane] = v * s2 + o2;
      }
    }
  }
}
