import { deflateSync } from 'node:zlib';
import sharp from 'sharp';

/**
 * A valid PNG of width x height 1-bit black pixels, made without ever holding the pixels:
 * 30000x30000 compresses to ~100 KB, a decompression bomb as far as a decoder is concerned.
 */
export function hugeBlackPng(width: number, height: number): Buffer {
  const rowBytes = 1 + Math.ceil(width / 8); // filter byte + packed bits
  const raw = Buffer.alloc(rowBytes * height); // zeros: filter 0, black
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 0; // grayscale
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * A camera-sized photo of a digit: the digit drawn large (smoothly upscaled) on a lit, grainy
 * background at 4032x3024, saved as a phone would save it, optionally with an EXIF orientation
 * that turns the stored pixels upright.
 */
export async function cameraPhotoOfDigit(pixels: Float32Array, opts: { seed: number; orientation?: 1 | 6 | 3 | 8; format?: 'jpeg' | 'png' }): Promise<Buffer> {
  const W = 4032;
  const H = 3024;
  const side = 2400;
  const digit = await sharp(Buffer.from(Array.from(pixels, (v) => Math.round(v * 255))), { raw: { width: 28, height: 28, channels: 1 } })
    .resize(side, side, { kernel: 'cubic' })
    .toColourspace('srgb')
    .png()
    .toBuffer();
  // Low-amplitude grain, like sensor noise, so the file has a realistic size.
  let s = opts.seed >>> 0 || 1;
  const noise = Buffer.alloc(W * H);
  for (let i = 0; i < noise.length; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    noise[i] = 8 + (s >>> 28);
  }
  let img = sharp(noise, { raw: { width: W, height: H, channels: 1 } })
    .toColourspace('srgb')
    .composite([{ input: digit, left: Math.round((W - side) / 2), top: Math.round((H - side) / 2), blend: 'lighten' }]);
  // The stored pixels are rotated so that applying the EXIF orientation makes them upright.
  const undo: Record<number, number> = { 1: 0, 3: 180, 6: 270, 8: 90 };
  const orientation = opts.orientation ?? 1;
  if (orientation !== 1) img = sharp(await img.png().toBuffer()).rotate(undo[orientation]);
  const out = opts.format === 'png' ? img.png() : img.jpeg({ quality: 90 });
  return (orientation !== 1 ? out.withMetadata({ orientation }) : out).toBuffer();
}
