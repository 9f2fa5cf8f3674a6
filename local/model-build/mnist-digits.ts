import sharp from 'sharp';
import { loadSplit } from './mnist-split';

/**
 * The 1,500 digits the demo model never saw: the last 150 samples of each digit's list in the
 * `mnist` package, in label order.
 */
export function heldOutDigits(): Array<{ index: number; label: number; pixels: Float32Array }> {
  return loadSplit().heldOut;
}

/**
 * A digit as image bytes, white on black as the package draws it: pixel = round(v * 255),
 * one gray channel. `size` scales it up by nearest neighbour (a whole multiple of 28 keeps
 * every source pixel intact through TensorFlow's bilinear resize back to 28).
 */
export async function encodeDigit(pixels: Float32Array, format: 'png' | 'jpeg', opts: { size?: number; quality?: number } = {}): Promise<Buffer> {
  const gray = Buffer.from(Array.from(pixels, (v) => Math.round(v * 255)));
  let img = sharp(gray, { raw: { width: 28, height: 28, channels: 1 } });
  if (opts.size && opts.size !== 28) img = img.resize(opts.size, opts.size, { kernel: 'nearest' });
  return format === 'png' ? img.png().toBuffer() : img.jpeg({ quality: opts.quality ?? 90 }).toBuffer();
}

/** The formats and sizes "PNG and JPEG files of mixed sizes" cycle through, in tests and benches alike. */
export const MIXED_DIGIT_SHAPES = [
  { format: 'png', size: 28 },
  { format: 'jpeg', size: 56 },
  { format: 'png', size: 112 },
  { format: 'jpeg', size: 280 },
  { format: 'png', size: 560 },
] as const;
