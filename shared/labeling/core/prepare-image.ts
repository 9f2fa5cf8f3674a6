import { errorMessage, PermanentError } from '#shared/errors';
import type { ImageCodec, ImageHeader } from '../ports';

/**
 * Why an image cannot be labeled. Each is permanent: the same bytes fail the same way.
 */
export type ImageRejection = 'EMPTY' | 'TOO_LARGE' | 'TOO_MANY_PIXELS' | 'NOT_AN_IMAGE' | 'UNSUPPORTED_FORMAT' | 'CORRUPT_IMAGE';

export class ImageRejectedError extends PermanentError {
  constructor(
    message: string,
    readonly rejection: ImageRejection,
  ) {
    super(message, rejection);
    this.name = 'ImageRejectedError';
  }
}

export interface PrepareLimits {
  /** bytes read at most per image; bigger objects are rejected before download */
  maxInputBytes: number;
  /** width x height at most, checked from the header before anything is decoded */
  maxInputPixels: number;
  /** longest edge of what is sent to the model */
  maxEdge: number;
  /** a JPEG up to this size (and within maxEdge, upright) is sent exactly as it came */
  sendAsIsMaxBytes: number;
  jpegQuality: number;
}

export const DEFAULT_PREPARE_LIMITS: PrepareLimits = {
  maxInputBytes: 32 * 1024 * 1024,
  maxInputPixels: 100_000_000,
  maxEdge: 512,
  sendAsIsMaxBytes: 256 * 1024,
  jpegQuality: 92,
};

export interface PreparedImage {
  /** JPEG bytes for the model */
  bytes: Buffer;
  width: number;
  height: number;
  /** the input's format, e.g. png */
  sourceFormat: string;
  converted: boolean;
}

/** The formats dropship labels (the codec's names); adding one here is all the core needs. */
const SUPPORTED = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff']);

/**
 * Turns whatever was dropped into what the model's serving signature takes (JPEG bytes) at a
 * bounded size, or rejects it with a reason. The header is read first, so a decompression
 * bomb (a tiny file declaring billions of pixels) is refused without being decoded. The
 * decoding itself is the codec's (adapters/sharp-image-codec.ts); the decisions are here.
 */
export async function prepareImage(codec: ImageCodec, input: Buffer, limits: PrepareLimits = DEFAULT_PREPARE_LIMITS): Promise<PreparedImage> {
  if (input.length === 0) throw new ImageRejectedError('the object is empty (zero bytes)', 'EMPTY');
  if (input.length > limits.maxInputBytes) {
    throw new ImageRejectedError(`the object has ${input.length} bytes, more than the ${limits.maxInputBytes}-byte limit`, 'TOO_LARGE');
  }
  let header: ImageHeader;
  try {
    header = await codec.header(input);
  } catch (err) {
    throw new ImageRejectedError(`not an image: ${errorMessage(err)}`, 'NOT_AN_IMAGE');
  }
  const { format, width, height } = header;
  if (!format || !SUPPORTED.has(format)) {
    throw new ImageRejectedError(`unsupported image format: ${format ?? 'unknown'} (supported: JPEG, PNG, WebP, GIF, TIFF)`, 'UNSUPPORTED_FORMAT');
  }
  if (width * height > limits.maxInputPixels) {
    throw new ImageRejectedError(`${width}x${height} is ${width * height} pixels, more than the ${limits.maxInputPixels}-pixel limit`, 'TOO_MANY_PIXELS');
  }
  const upright = header.orientation === 1;
  const asIs = format === 'jpeg' && input.length <= limits.sendAsIsMaxBytes && Math.max(width, height) <= limits.maxEdge && upright && header.colourSpace !== 'cmyk';
  try {
    if (asIs) {
      // Decoding proves the bytes are whole, so one bad file never fails a batched predict call.
      await codec.verify(input, limits.maxInputPixels);
      return { bytes: input, width, height, sourceFormat: format, converted: false };
    }
    const gray = header.channels === 1 || header.colourSpace === 'b-w';
    const out = await codec.toJpeg(input, { maxPixels: limits.maxInputPixels, maxEdge: limits.maxEdge, quality: limits.jpegQuality, gray });
    return { bytes: out.bytes, width: out.width, height: out.height, sourceFormat: format, converted: true };
  } catch (err) {
    throw new ImageRejectedError(`the ${format} image cannot be decoded: ${errorMessage(err)}`, 'CORRUPT_IMAGE');
  }
}
