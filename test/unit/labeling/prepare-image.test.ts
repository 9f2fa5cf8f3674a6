import sharp from 'sharp';
import { prepareWithSharp as prepareImage } from '#shared/labeling/adapters/sharp-image-codec';
import { DEFAULT_PREPARE_LIMITS } from '#shared/labeling/core/prepare-image';
import { hugeBlackPng } from '#local/model-build/image-fixtures';

const solid = (w: number, h: number) => sharp({ create: { width: w, height: h, channels: 3, background: '#406080' } });

describe('prepareImage', () => {
  it('sends a small upright JPEG exactly as it came', async () => {
    const jpeg = await solid(300, 200).jpeg().toBuffer();
    const p = await prepareImage(jpeg);
    expect(p.converted).toBe(false);
    expect(p.bytes.equals(jpeg)).toBe(true);
  });

  it.each(['png', 'webp', 'gif', 'tiff'] as const)('converts %s to JPEG', async (format) => {
    const p = await prepareImage(await solid(64, 48).toFormat(format).toBuffer());
    expect([p.converted, p.sourceFormat, (await sharp(p.bytes).metadata()).format, p.width, p.height]).toEqual([true, format, 'jpeg', 64, 48]);
  });

  it('downscales an oversized photo to the edge bound, keeping its aspect', async () => {
    const p = await prepareImage(await solid(4032, 3024).jpeg().toBuffer(), { ...DEFAULT_PREPARE_LIMITS, maxEdge: 400 });
    expect([p.converted, p.width, p.height]).toEqual([true, 400, 300]);
  });

  it('applies the EXIF orientation', async () => {
    // stored 300 wide x 200 high; orientation 6 means "rotate 90° clockwise to view"
    const rotated = await solid(300, 200).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const p = await prepareImage(rotated);
    expect([p.converted, p.width, p.height]).toEqual([true, 200, 300]);
  });

  it.each([
    ['zero bytes', async () => Buffer.alloc(0), 'EMPTY'],
    ['text named .jpg', async () => Buffer.from('just some text'), 'NOT_AN_IMAGE'],
    ['truncated JPEG', async () => (await solid(300, 200).jpeg().toBuffer()).subarray(0, 300), 'CORRUPT_IMAGE'],
    ['SVG', async () => Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"/>'), 'UNSUPPORTED_FORMAT'],
    ['30000x30000 PNG', async () => hugeBlackPng(30_000, 30_000), 'TOO_MANY_PIXELS'],
  ])('rejects %s', async (_name, make, rejection) => {
    await expect(prepareImage(await make())).rejects.toMatchObject({ rejection, name: 'ImageRejectedError' });
  });

  it('refuses more bytes than the byte limit', async () => {
    await expect(prepareImage(Buffer.alloc(2048, 1), { ...DEFAULT_PREPARE_LIMITS, maxInputBytes: 1024 })).rejects.toMatchObject({ rejection: 'TOO_LARGE' });
  });
});
