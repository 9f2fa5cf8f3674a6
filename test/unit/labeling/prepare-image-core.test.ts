import { DEFAULT_PREPARE_LIMITS, prepareImage } from '#shared/labeling/core/prepare-image';
import type { ImageCodec, ImageHeader } from '#shared/labeling/ports';

/** A codec that reports a fixed header and records what the core asked of it. */
function fakeCodec(header: ImageHeader | Error, fail?: { verify?: Error; toJpeg?: Error }) {
  const calls: string[] = [];
  let jpegOpts: Parameters<ImageCodec['toJpeg']>[1] | undefined;
  const codec: ImageCodec = {
    async header() {
      calls.push('header');
      if (header instanceof Error) throw header;
      return header;
    },
    async verify() {
      calls.push('verify');
      if (fail?.verify) throw fail.verify;
    },
    async toJpeg(_input, opts) {
      calls.push('toJpeg');
      jpegOpts = opts;
      if (fail?.toJpeg) throw fail.toJpeg;
      return { bytes: Buffer.from('converted'), width: 10, height: 20 };
    },
  };
  return { codec, calls, jpegOpts: () => jpegOpts };
}

const bytes = Buffer.from('some image bytes');
const jpeg = (over: Partial<ImageHeader> = {}): ImageHeader => ({ format: 'jpeg', width: 64, height: 48, orientation: 1, colourSpace: 'srgb', channels: 3, ...over });

describe('prepareImage (the core, on a fake codec)', () => {
  it('sends a small upright JPEG as it came, after the codec decoded it whole', async () => {
    const f = fakeCodec(jpeg());
    const p = await prepareImage(f.codec, bytes);
    expect(p).toEqual({ bytes, width: 64, height: 48, sourceFormat: 'jpeg', converted: false });
    expect(f.calls).toEqual(['header', 'verify']);
  });

  it.each([
    ['a PNG', jpeg({ format: 'png' })],
    ['a rotated JPEG', jpeg({ orientation: 6 })],
    ['a CMYK JPEG', jpeg({ colourSpace: 'cmyk' })],
    ['a JPEG larger than maxEdge', jpeg({ width: 1024 })],
  ])('converts %s to JPEG with the limits', async (_what, header) => {
    const f = fakeCodec(header);
    const p = await prepareImage(f.codec, bytes);
    expect(p).toMatchObject({ bytes: Buffer.from('converted'), width: 10, height: 20, converted: true, sourceFormat: header.format });
    expect(f.jpegOpts()).toEqual({ maxPixels: DEFAULT_PREPARE_LIMITS.maxInputPixels, maxEdge: DEFAULT_PREPARE_LIMITS.maxEdge, quality: DEFAULT_PREPARE_LIMITS.jpegQuality, gray: false });
  });

  it('asks for gray output from a one-channel or b-w image', async () => {
    for (const header of [jpeg({ format: 'png', channels: 1 }), jpeg({ format: 'png', colourSpace: 'b-w', channels: 3 })]) {
      const f = fakeCodec(header);
      await prepareImage(f.codec, bytes);
      expect(f.jpegOpts()?.gray).toBe(true);
    }
  });

  it('refuses a pixel bomb from its header alone, decoding nothing', async () => {
    const f = fakeCodec(jpeg({ format: 'png', width: 30_000, height: 30_000 }));
    await expect(prepareImage(f.codec, bytes)).rejects.toMatchObject({ rejection: 'TOO_MANY_PIXELS' });
    expect(f.calls).toEqual(['header']);
  });

  it('rejects what the codec cannot read, an unsupported format, and an image that fails to decode', async () => {
    await expect(prepareImage(fakeCodec(new Error('unsupported image format')).codec, bytes)).rejects.toMatchObject({ rejection: 'NOT_AN_IMAGE', message: 'not an image: unsupported image format' });
    await expect(prepareImage(fakeCodec(jpeg({ format: 'heif' })).codec, bytes)).rejects.toMatchObject({ rejection: 'UNSUPPORTED_FORMAT' });
    await expect(prepareImage(fakeCodec(jpeg({ format: undefined })).codec, bytes)).rejects.toMatchObject({ rejection: 'UNSUPPORTED_FORMAT' });
    await expect(prepareImage(fakeCodec(jpeg(), { verify: new Error('premature end') }).codec, bytes)).rejects.toMatchObject({
      rejection: 'CORRUPT_IMAGE',
      message: 'the jpeg image cannot be decoded: premature end',
    });
    await expect(prepareImage(fakeCodec(jpeg({ format: 'png' }), { toJpeg: new Error('bad') }).codec, bytes)).rejects.toMatchObject({ rejection: 'CORRUPT_IMAGE' });
  });

  it('rejects empty and oversized input before asking the codec anything', async () => {
    const f = fakeCodec(jpeg());
    await expect(prepareImage(f.codec, Buffer.alloc(0))).rejects.toMatchObject({ rejection: 'EMPTY' });
    await expect(prepareImage(f.codec, Buffer.alloc(2048), { ...DEFAULT_PREPARE_LIMITS, maxInputBytes: 1024 })).rejects.toMatchObject({ rejection: 'TOO_LARGE' });
    expect(f.calls).toEqual([]);
  });
});
