import sharp from 'sharp';
import type { RawImage } from './bilinear-resize';

/**
 * Decodes JPEG or PNG bytes to 8-bit RGB with sharp (libvips): alpha dropped, gray kept as one
 * channel (the resize replicates it), CMYK and other colour spaces converted to sRGB. EXIF
 * orientation is ignored, as TensorFlow's decode_jpeg ignores it. Throws a plain Error with a
 * readable message; the caller attaches the image's position.
 */
export const DEFAULT_MAX_PIXELS = 64 * 1024 * 1024;

export async function decodeImage(bytes: Uint8Array, opts: { maxPixels?: number } = {}): Promise<RawImage> {
  if (bytes.length === 0) throw new Error('empty file (0 bytes)');
  const kind = sniff(bytes);
  if (!kind) throw new Error(`not a JPEG or PNG image (first bytes ${hex(bytes.subarray(0, 8))})`);
  try {
    const { data, info } = await sharp(bytes, { failOn: 'warning', limitInputPixels: opts.maxPixels ?? DEFAULT_MAX_PIXELS })
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height, channels: info.channels };
  } catch (err) {
    throw new Error(`cannot decode ${kind}: ${(err as Error).message.replace(/\s+/g, ' ').trim()}`);
  }
}

function sniff(b: Uint8Array): 'JPEG' | 'PNG' | null {
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'JPEG';
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'PNG';
  return null;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex') || '(none)';
}
