import { createWriteStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createInflate } from 'node:zlib';
import { badRequest } from './gcs-error';

/**
 * The request's bytes with its Content-Encoding undone. `gcloud storage cp --gzip-in-flight`
 * (-J/-j) gzips upload bodies, each resumable chunk on its own, with Content-Range counted in
 * the decoded bytes; Cloud Storage stores what they decode to.
 */
export function requestBody(req: IncomingMessage): Readable {
  const encoding = String(req.headers['content-encoding'] ?? '')
    .trim()
    .toLowerCase();
  if (encoding === '' || encoding === 'identity') return req;
  const decoder = encoding === 'gzip' || encoding === 'x-gzip' ? createGunzip() : encoding === 'deflate' ? createInflate() : undefined;
  if (!decoder) throw badRequest(`Unsupported Content-Encoding: ${encoding}`);
  req.on('error', (err) => decoder.destroy(err));
  return req.pipe(decoder);
}

export function readBody(req: IncomingMessage): Promise<Buffer> {
  const body = requestBody(req);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    body.on('data', (c: Buffer) => chunks.push(c));
    body.on('end', () => resolve(Buffer.concat(chunks)));
    body.on('error', reject);
  });
}

export async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const body = await readBody(req);
  if (body.length === 0) return {};
  try {
    const v = JSON.parse(body.toString('utf8')) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw badRequest('The request body is not a JSON object.');
}

export async function bodyToFile(req: IncomingMessage, path: string): Promise<void> {
  await pipeline(requestBody(req), createWriteStream(path));
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-length': '0', ...headers });
  res.end();
}
