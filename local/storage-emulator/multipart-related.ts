import { badRequest } from './gcs-error';

export interface MultipartUpload {
  metadata: Record<string, unknown>;
  media: Buffer;
  mediaContentType?: string;
}

/**
 * Splits a `multipart/related` upload body into its JSON metadata part and its media part,
 * as the client's simple (non-resumable) upload sends it.
 */
export function parseMultipartRelated(contentType: string | undefined, body: Buffer): MultipartUpload {
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType ?? '')?.[1];
  if (!boundary) throw badRequest('multipart upload without a boundary');
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Array<{ headers: Record<string, string>; body: Buffer }> = [];
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    let start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    if (body.subarray(start, start + 2).toString() === '\r\n') start += 2;
    const next = body.indexOf(delimiter, start);
    if (next < 0) break;
    let end = next;
    if (body.subarray(end - 2, end).toString() === '\r\n') end -= 2;
    const part = body.subarray(start, end);
    const headerEnd = part.indexOf('\r\n\r\n');
    const headerText = headerEnd >= 0 ? part.subarray(0, headerEnd).toString('utf8') : '';
    const headers: Record<string, string> = {};
    for (const line of headerText.split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    parts.push({ headers, body: headerEnd >= 0 ? part.subarray(headerEnd + 4) : part });
    at = next;
  }
  if (parts.length !== 2) throw badRequest(`multipart upload must have 2 parts, got ${parts.length}`);
  let metadata: Record<string, unknown>;
  try {
    metadata = JSON.parse(parts[0]!.body.toString('utf8') || '{}') as Record<string, unknown>;
  } catch {
    throw badRequest('multipart upload metadata is not JSON');
  }
  return { metadata, media: parts[1]!.body, mediaContentType: parts[1]!.headers['content-type'] };
}
