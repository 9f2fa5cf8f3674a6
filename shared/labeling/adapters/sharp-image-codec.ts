import sharp from 'sharp';
import { DEFAULT_PREPARE_LIMITS, prepareImage, type PrepareLimits, type PreparedImage } from '../core/prepare-image';
import type { ImageCodec } from '../ports';

/**
 * The image codec with sharp (libvips). Errors come out as plain Errors with sharp's first
 * line, worded for a user ("the data ..." rather than "Input buffer ..."); the core turns them
 * into rejections.
 */
export const sharpImageCodec: ImageCodec = {
  async header(input) {
    try {
      const meta = await sharp(input, { limitInputPixels: false }).metadata();
      return {
        format: meta.format as string | undefined,
        width: meta.width ?? 0,
        height: meta.height ?? 0,
        orientation: meta.orientation ?? 1,
        ...(meta.space ? { colourSpace: meta.space as string } : {}),
        ...(meta.channels ? { channels: meta.channels } : {}),
      };
    } catch (err) {
      throw decodeError(err);
    }
  },
  async verify(input, maxPixels) {
    try {
      await sharp(input, decodeOptions(maxPixels)).raw().toBuffer();
    } catch (err) {
      throw decodeError(err);
    }
  },
  async toJpeg(input, o) {
    try {
      const { data, info } = await sharp(input, decodeOptions(o.maxPixels))
        .autoOrient()
        .resize({ width: o.maxEdge, height: o.maxEdge, fit: 'inside', withoutEnlargement: true })
        .flatten({ background: '#ffffff' })
        .toColourspace(o.gray ? 'b-w' : 'srgb')
        .jpeg({ quality: o.quality, mozjpeg: false })
        .toBuffer({ resolveWithObject: true });
      return { bytes: data, width: info.width, height: info.height };
    } catch (err) {
      throw decodeError(err);
    }
  },
};

/** The core's prepareImage with this codec, for benches and tests that prepare images directly. */
export function prepareWithSharp(input: Buffer, limits: PrepareLimits = DEFAULT_PREPARE_LIMITS): Promise<PreparedImage> {
  return prepareImage(sharpImageCodec, input, limits);
}

const decodeOptions = (maxPixels: number): sharp.SharpOptions => ({ limitInputPixels: maxPixels, failOn: 'truncated', pages: 1 });

function decodeError(err: unknown): Error {
  const m = err instanceof Error ? err.message : String(err);
  return new Error(m.split('\n')[0]!.replace(/^Input (buffer|file) /, 'the data '), { cause: err });
}
