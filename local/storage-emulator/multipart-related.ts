import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { Splitter, type SplitterChunk } from '@zone-eu/mailsplit';
import { badRequest } from './gcs-error';

export interface MultipartUpload {
  metadata: Record<string, unknown>;
  /** Content-Type of the media part, as sent (parameters included) */
  mediaContentType?: string;
}

/** RFC 2046 §5.1.1: 1-70 of these characters, not ending in a space */
const BCHARS = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;

/**
 * The boundary parameter of a multipart Content-Type: a token or a quoted-string (RFC 2045
 * §5.1). gcloud (apitools, through Python's email package) wraps it in single quotes, e.g.
 * `boundary='===============0123456789=='`, while its body uses the bare `--=====...==`;
 * Cloud Storage accepts that, so single quotes around the whole value are taken as quoting.
 */
export function multipartBoundary(contentType: string | undefined): string {
  const m = /;\s*boundary\s*=\s*("((?:[^"\\]|\\.)*)"|'([^']*)'|([^\s;]+))/i.exec(contentType ?? '');
  const boundary = m ? (m[2]?.replace(/\\(.)/g, '$1') ?? m[3] ?? m[4]) : undefined;
  if (!boundary) throw badRequest('multipart upload without a boundary');
  if (!BCHARS.test(boundary)) throw badRequest(`multipart boundary is not valid: ${JSON.stringify(boundary)}`);
  return boundary;
}

/**
 * Reads a `multipart/related` upload (RFC 2387; the JSON API's uploadType=multipart): the first
 * part is the object's JSON metadata, the second its bytes, which are streamed to `mediaFile`.
 * Splitting is done by mailsplit, a byte-exact MIME splitter that accepts the CRLF line breaks
 * RFC 2046 asks for and the bare LF that gcloud sends, with preamble and epilogue.
 */
export async function readMultipartRelated(contentType: string | undefined, body: Readable, mediaFile: string): Promise<MultipartUpload> {
  if (!/^\s*multipart\//i.test(contentType ?? '')) throw badRequest(`multipart upload with Content-Type ${contentType ?? '(none)'}`);
  const boundary = multipartBoundary(contentType);
  // mailsplit reads a whole MIME entity: give it the header block the HTTP request carried
  const entity = Readable.from(
    (async function* () {
      yield Buffer.from(`Content-Type: multipart/related; boundary="${boundary}"\r\n\r\n`);
      for await (const chunk of body) yield chunk as Buffer;
    })(),
  );
  const splitter = new Splitter({ ignoreEmbedded: true });
  entity.on('error', (err) => splitter.destroy(err));
  entity.pipe(splitter);

  const media = createWriteStream(mediaFile);
  const metadataChunks: Buffer[] = [];
  let parts = 0;
  let mediaContentType: string | undefined;
  try {
    for await (const chunk of splitter as AsyncIterable<SplitterChunk>) {
      if (chunk.type === 'node') {
        if (chunk.root) {
          if (!chunk.multipart) throw badRequest('multipart upload body is not multipart');
          continue;
        }
        if (chunk.multipart) throw badRequest('multipart upload parts must not be multipart themselves');
        parts++;
        if (parts === 2) {
          if (chunk.encoding && !['binary', '8bit', '7bit'].includes(chunk.encoding)) {
            throw badRequest(`multipart upload media with Content-Transfer-Encoding ${chunk.encoding} is not supported`);
          }
          mediaContentType = chunk.headers ? chunk.headers.getFirst('content-type').trim() || undefined : undefined;
        }
        continue;
      }
      if (chunk.type !== 'body') continue; // boundaries, preamble, epilogue
      if (parts === 1) metadataChunks.push(chunk.value);
      else if (parts === 2 && !media.write(chunk.value)) await once(media, 'drain');
    }
  } catch (err) {
    entity.destroy();
    media.destroy();
    throw err instanceof Error && !('status' in err) ? badRequest(`multipart upload is malformed: ${err.message}`) : err;
  } finally {
    media.end();
    await finished(media).catch(() => undefined);
  }
  if (parts !== 2) throw badRequest(`multipart upload must have 2 parts, got ${parts}`);
  let metadata: unknown;
  try {
    const text = Buffer.concat(metadataChunks).toString('utf8').trim();
    metadata = text ? JSON.parse(text) : {};
  } catch {
    throw badRequest('multipart upload metadata is not JSON');
  }
  if (!metadata || typeof metadata !== 'object' || Array.isArray(metadata)) throw badRequest('multipart upload metadata is not a JSON object');
  return { metadata: metadata as Record<string, unknown>, mediaContentType };
}
