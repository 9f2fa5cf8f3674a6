import sharp from 'sharp';
import { SeededRandom } from '#local/model-build/seeded-random';

/** Photo-like 224x224 JPEGs (smooth colour fields with grain), the same on every run. */
export async function benchJpegs(count: number, size = 224, seed = 7): Promise<Buffer[]> {
  const rng = new SeededRandom(seed);
  const out: Buffer[] = [];
  for (let n = 0; n < count; n++) {
    const px = Buffer.alloc(size * size * 3);
    const [a, b, c] = [rng.next(), rng.next(), rng.next()];
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const i = (y * size + x) * 3;
        const grain = (rng.next() - 0.5) * 40;
        px[i] = clamp(255 * (0.5 + 0.5 * Math.sin(x * a * 0.1 + y * 0.03)) + grain);
        px[i + 1] = clamp(255 * (0.5 + 0.5 * Math.cos(y * b * 0.08 - x * 0.02)) + grain);
        px[i + 2] = clamp(255 * c * ((x + y) / (2 * size)) + grain);
      }
    }
    out.push(
      await sharp(px, { raw: { width: size, height: size, channels: 3 } })
        .jpeg({ quality: 90 })
        .toBuffer(),
    );
  }
  return out;
}

const clamp = (v: number) => Math.max(0, Math.min(255, Math.round(v)));
