import { createReadStream } from 'node:fs';
import { copyFile, rm } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { Logger } from '#shared/logging/logger';
import { parseRange, parseUploadRange } from './byte-range';
import { hashFile } from './file-hashes';
import { GcsError, badRequest } from './gcs-error';
import { bodyToFile, readJson, requestBody, sendEmpty, sendJson } from './http-io';
import { listObjects } from './list-objects';
import { applyFields, parseFields, type FieldMask } from './partial-response';
import { readMultipartRelated } from './multipart-related';
import { WRITABLE_FIELDS, type ObjectRecord, type WritableMetadata } from './object-record';
import { bucketResource, etag, objectResource } from './object-resource';
import type { ObjectStore } from './object-store';
import { checkPreconditions, preconditionsFrom } from './preconditions';
import type { ResumableUploads } from './resumable-uploads';
import type { NotificationInput, NotificationRegistry } from './notifications';
import type { DeliveryFaults } from './event-delivery';

export interface ApiContext {
  store: ObjectStore;
  uploads: ResumableUploads;
  notifications: NotificationRegistry;
  setDelivery(d: DeliveryFaults): void;
  idle(): Promise<void>;
  logger: Logger;
}

interface Call {
  req: IncomingMessage;
  res: ServerResponse;
  query: URLSearchParams;
  /** the `fields` projection asked for, applied to every 200 answer */
  fields?: FieldMask;
  /** scheme://host the client used, for links and the resumable session URI */
  base: string;
}

/**
 * The Cloud Storage JSON API subset @google-cloud/storage uses, under /storage/v1 (apiEndpoint)
 * or at the root (STORAGE_EMULATOR_HOST), plus /upload/storage/v1 and /download/storage/v1,
 * and the emulator's own admin routes under /emulator.
 */
export function createApiHandler(ctx: ApiContext): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const call: Call = { req, res, query: url.searchParams, base: `http://${req.headers.host ?? 'localhost'}` };
    const started = Date.now();
    res.on('finish', () => ctx.logger.debug('request', { method: req.method, url: req.url, status: res.statusCode, ms: Date.now() - started }));
    const routed = (async () => {
      const fields = call.query.get('fields');
      if (fields) call.fields = parseFields(fields);
      await route(ctx, call, url.pathname);
    })();
    routed.catch((err: unknown) => {
      req.resume();
      if (err instanceof GcsError) {
        if (err.status === 304) return sendEmpty(res, 304);
        return sendJson(res, err.status, err.toJSON());
      }
      if (err instanceof z.ZodError) return sendJson(res, 400, badRequest(z.prettifyError(err)).toJSON());
      if (req.destroyed && (err as NodeJS.ErrnoException).code === 'ECONNRESET') {
        // the client hung up mid-request (a resumable upload keeps what arrived and resumes)
        ctx.logger.info('client closed the connection mid-request', { method: req.method, url: req.url });
        return void res.destroy();
      }
      ctx.logger.error('request failed', { method: req.method, url: req.url, err });
      if (!res.headersSent) sendJson(res, 500, new GcsError(500, err instanceof Error ? err.message : String(err), 'backendError').toJSON());
      else res.destroy();
    });
  };
}

async function route(ctx: ApiContext, call: Call, pathname: string): Promise<void> {
  const raw = pathname.split('/').slice(1);
  const seg = raw.map((s) => decodeURIComponent(s));
  const method = call.req.method ?? 'GET';
  if (seg[0] === 'emulator') return admin(ctx, call, method, seg.slice(1));
  let kind: 'json' | 'upload' | 'download' = 'json';
  let rest = seg;
  if (seg[0] === 'upload' && seg[1] === 'storage' && seg[2] === 'v1') [kind, rest] = ['upload', seg.slice(3)];
  // gcloud storage (apitools) starts resumable uploads under /resumable/upload/storage/v1
  else if (seg[0] === 'resumable' && seg[1] === 'upload' && seg[2] === 'storage' && seg[3] === 'v1') [kind, rest] = ['upload', seg.slice(4)];
  else if (seg[0] === 'download' && seg[1] === 'storage' && seg[2] === 'v1') [kind, rest] = ['download', seg.slice(3)];
  else if (seg[0] === 'storage' && seg[1] === 'v1') rest = seg.slice(2);
  if (rest[0] !== 'b') {
    // https://storage.googleapis.com/BUCKET/OBJECT, as file.publicUrl() gives it
    if (kind === 'json' && method === 'GET' && rest.length >= 2 && rest[0]) return download(ctx, call, rest[0], rest.slice(1).join('/'));
    throw new GcsError(404, `Not found: ${pathname}`, 'notFound');
  }
  const bucket = rest[1];
  if (kind === 'upload') {
    if (!bucket || rest[2] !== 'o' || rest.length !== 3) throw new GcsError(404, `Not found: ${pathname}`, 'notFound');
    if (method === 'POST') return upload(ctx, call, bucket);
    if (method === 'PUT') return resumeUpload(ctx, call);
    if (method === 'DELETE') return cancelUpload(ctx, call);
    throw badRequest(`${method} is not supported on uploads`);
  }
  if (bucket === undefined || bucket === '') {
    if (method === 'GET') return listBuckets(ctx, call);
    if (method === 'POST') {
      const body = await readJson(call.req);
      const name = z.object({ name: z.string() }).parse(body).name;
      return reply(call, bucketResource(await ctx.store.createBucket(name, body), call.base));
    }
  }
  if (bucket && rest.length === 3 && rest[2] === 'storageLayout' && method === 'GET') {
    // gcloud storage rm -r asks whether the bucket has a hierarchical namespace (folders)
    const b = await ctx.store.getBucket(bucket);
    return reply(call, { kind: 'storage#storageLayout', bucket, location: b.location, locationType: 'region', hierarchicalNamespace: { enabled: false } });
  }
  if (bucket && rest.length === 3 && rest[2] === 'managedFolders' && method === 'GET') {
    // gcloud storage rm -r gs://BUCKET lists managed folders (an IAM feature, none here) first
    await ctx.store.getBucket(bucket);
    return reply(call, { kind: 'storage#managedFolders', items: [] });
  }
  if (bucket && rest.length === 2) {
    if (method === 'GET') return reply(call, bucketResource(await ctx.store.getBucket(bucket), call.base));
    if (method === 'PATCH' || method === 'PUT') {
      const body = bucketPatchSchema.parse(await readJson(call.req));
      return reply(call, bucketResource(await ctx.store.patchBucket(bucket, body), call.base));
    }
    if (method === 'DELETE') {
      await ctx.store.deleteBucket(bucket);
      return sendEmpty(call.res, 204);
    }
  }
  if (bucket && rest[2] === 'o') {
    if (rest.length === 3 && method === 'GET') return listObjectsCall(ctx, call, bucket);
    const tail = rest.slice(3);
    const rewriteAt = findAction(tail, ['rewriteTo', 'copyTo']);
    if (rewriteAt >= 0 && method === 'POST' && tail[rewriteAt + 1] === 'b' && tail[rewriteAt + 3] === 'o') {
      const source = tail.slice(0, rewriteAt).join('/');
      const destBucket = tail[rewriteAt + 2]!;
      const destName = tail.slice(rewriteAt + 4).join('/');
      return copy(ctx, call, bucket, source, destBucket, destName, tail[rewriteAt] === 'rewriteTo');
    }
    if (tail.length >= 2 && tail[tail.length - 1] === 'compose' && method === 'POST') {
      return compose(ctx, call, bucket, tail.slice(0, -1).join('/'));
    }
    const name = tail.join('/');
    if (name) {
      if (method === 'GET' && (kind === 'download' || call.query.get('alt') === 'media')) return download(ctx, call, bucket, name);
      if (method === 'GET') return getObject(ctx, call, bucket, name);
      if (method === 'PATCH' || method === 'PUT') return patchObject(ctx, call, bucket, name);
      if (method === 'DELETE') {
        await ctx.store.delete(bucket, name, preconditionsFrom(call.query), call.query.get('generation'));
        return sendEmpty(call.res, 204);
      }
    }
  }
  throw new GcsError(404, `Not found: ${method} ${pathname}`, 'notFound');
}

const bucketPatchSchema = z.object({
  labels: z.record(z.string(), z.string().nullable()).nullable().optional(),
  storageClass: z.string().optional(),
});

/** a 200 with a JSON body, cut down to the `fields` the caller asked for */
function reply(call: Call, body: unknown): void {
  sendJson(call.res, 200, call.fields ? applyFields(body, call.fields) : body);
}

function findAction(tail: string[], actions: string[]): number {
  for (let i = tail.length - 1; i >= 1; i--) if (actions.includes(tail[i]!)) return i;
  return -1;
}

async function listBuckets(ctx: ApiContext, call: Call): Promise<void> {
  const prefix = call.query.get('prefix') ?? '';
  const items = [];
  for (const name of await ctx.store.bucketNames()) {
    if (name.startsWith(prefix)) items.push(bucketResource(await ctx.store.getBucket(name), call.base));
  }
  reply(call, { kind: 'storage#buckets', items });
}

async function listObjectsCall(ctx: ApiContext, call: Call, bucket: string): Promise<void> {
  await ctx.store.getBucket(bucket);
  const q = call.query;
  if (q.get('versions') === 'true') ctx.logger.debug('versions=true listed as live objects only (no object versioning)');
  const max = q.get('maxResults');
  const page = listObjects(ctx.store.sortedNames(bucket), {
    prefix: q.get('prefix') ?? undefined,
    delimiter: q.get('delimiter') ?? undefined,
    pageToken: q.get('pageToken') ?? undefined,
    maxResults: max ? Number(max) : undefined,
    startOffset: q.get('startOffset') ?? undefined,
    endOffset: q.get('endOffset') ?? undefined,
    includeTrailingDelimiter: q.get('includeTrailingDelimiter') === 'true',
  });
  const items = page.names
    .map((n) => ctx.store.get(bucket, n))
    .filter((r): r is ObjectRecord => !!r)
    .map((r) => objectResource(r, call.base));
  reply(call, {
    kind: 'storage#objects',
    ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
    ...(page.prefixes.length ? { prefixes: page.prefixes } : {}),
    items,
  });
}

async function getObject(ctx: ApiContext, call: Call, bucket: string, name: string): Promise<void> {
  const r = await ctx.store.require(bucket, name, call.query.get('generation'));
  checkPreconditions(preconditionsFrom(call.query), r, 'read');
  reply(call, objectResource(r, call.base));
}

async function download(ctx: ApiContext, call: Call, bucket: string, name: string): Promise<void> {
  const r = await ctx.store.require(bucket, name, call.query.get('generation'));
  checkPreconditions(preconditionsFrom(call.query), r, 'read');
  const headers: Record<string, string> = {
    'content-type': r.contentType,
    'x-goog-generation': r.generation,
    'x-goog-metageneration': r.metageneration,
    'x-goog-stored-content-length': String(r.size),
    'x-goog-stored-content-encoding': r.contentEncoding ?? 'identity',
    'x-goog-hash': `crc32c=${r.crc32c},md5=${r.md5Hash}`,
    etag: etag(r),
    'last-modified': new Date(r.updated).toUTCString(),
    'accept-ranges': 'bytes',
    ...(r.contentEncoding ? { 'content-encoding': r.contentEncoding } : {}),
    ...(r.contentDisposition ? { 'content-disposition': r.contentDisposition } : {}),
    ...(r.cacheControl ? { 'cache-control': r.cacheControl } : {}),
  };
  const range = parseRange(call.req.headers.range, r.size);
  if (range === 'unsatisfiable') {
    return sendJson(call.res, 416, new GcsError(416, 'The requested range cannot be satisfied.', 'requestedRangeNotSatisfiable').toJSON(), {
      'content-range': `bytes */${r.size}`,
    });
  }
  const path = ctx.store.dataPath(r);
  if (range) {
    call.res.writeHead(206, { ...headers, 'content-range': `bytes ${range.start}-${range.end}/${r.size}`, 'content-length': String(range.end - range.start + 1) });
    return sendStream(createReadStream(path, { start: range.start, end: range.end }), call.res);
  }
  call.res.writeHead(200, { ...headers, 'content-length': String(r.size) });
  if (r.size === 0) return void call.res.end();
  await sendStream(createReadStream(path), call.res);
}

/** a client that hangs up early (it had what it wanted, or gave up) is not the emulator's error */
async function sendStream(source: NodeJS.ReadableStream, res: ServerResponse): Promise<void> {
  try {
    await pipeline(source, res);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') throw err;
  }
}

async function patchObject(ctx: ApiContext, call: Call, bucket: string, name: string): Promise<void> {
  const body = await readJson(call.req);
  const r = await ctx.store.patch(bucket, name, writableFrom(body), preconditionsFrom(call.query));
  reply(call, objectResource(r, call.base));
}

/** the client-settable fields of an object resource in a request body */
function writableFrom(body: Record<string, unknown>): WritableMetadata {
  const out: WritableMetadata = {};
  for (const f of WRITABLE_FIELDS) if (typeof body[f] === 'string') out[f] = body[f] as string;
  if (body.metadata === null) out.metadata = null;
  else if (body.metadata && typeof body.metadata === 'object') out.metadata = body.metadata as Record<string, string | null>;
  return out;
}

async function upload(ctx: ApiContext, call: Call, bucket: string): Promise<void> {
  const uploadType = call.query.get('uploadType') ?? 'media';
  const pre = preconditionsFrom(call.query);
  await ctx.store.getBucket(bucket);
  if (uploadType === 'resumable') {
    const body = await readJson(call.req);
    const name = call.query.get('name') ?? (typeof body.name === 'string' ? body.name : undefined);
    if (!name) throw badRequest('Required object name is missing.');
    checkPreconditions(pre, ctx.store.get(bucket, name));
    const metadata = writableFrom(body);
    const headerType = call.req.headers['x-upload-content-type'];
    if (typeof headerType === 'string' && !metadata.contentType) metadata.contentType = headerType;
    const session = await ctx.uploads.create({ bucket, name, metadata, preconditions: pre });
    const location = `${call.base}/upload/storage/v1/b/${bucket}/o?uploadType=resumable&name=${encodeURIComponent(name)}&upload_id=${session.id}`;
    return sendEmpty(call.res, 200, { location, 'x-guploader-uploadid': session.id });
  }
  const staged = ctx.store.stagingFile();
  try {
    let name = call.query.get('name') ?? undefined;
    let metadata: WritableMetadata;
    if (uploadType === 'multipart') {
      const parts = await readMultipartRelated(call.req.headers['content-type'], requestBody(call.req), staged);
      metadata = writableFrom(parts.metadata);
      if (!metadata.contentType && parts.mediaContentType) metadata.contentType = parts.mediaContentType;
      name ??= typeof parts.metadata.name === 'string' ? parts.metadata.name : undefined;
    } else if (uploadType === 'media') {
      metadata = { contentType: call.req.headers['content-type'] };
      await bodyToFile(call.req, staged);
    } else {
      throw badRequest(`Invalid uploadType: ${uploadType}`);
    }
    if (!name) throw badRequest('Required object name is missing.');
    const record = await ctx.store.commit(bucket, name, { file: staged, ...(await hashFile(staged)) }, metadata, pre);
    reply(call, objectResource(record, call.base));
  } finally {
    await rm(staged, { force: true });
  }
}

async function resumeUpload(ctx: ApiContext, call: Call): Promise<void> {
  const id = call.query.get('upload_id') ?? '';
  const session = await ctx.uploads.get(id);
  const outcome = await ctx.uploads.put(session, parseUploadRange(call.req.headers['content-range']), requestBody(call.req));
  if (outcome.kind === 'incomplete') {
    // Cloud Storage's reason phrase; Range is absent until some bytes are held
    call.res.statusMessage = 'Resume Incomplete';
    return sendEmpty(call.res, 308, outcome.received > 0 ? { range: `bytes=0-${outcome.received - 1}` } : {});
  }
  try {
    const record = await ctx.store.commit(session.bucket, session.name, { file: outcome.dataFile, ...(await hashFile(outcome.dataFile)) }, session.metadata, session.preconditions);
    reply(call, objectResource(record, call.base));
  } finally {
    await ctx.uploads.discard(session.id);
  }
}

async function cancelUpload(ctx: ApiContext, call: Call): Promise<void> {
  const session = await ctx.uploads.get(call.query.get('upload_id') ?? '');
  await ctx.uploads.discard(session.id);
  sendEmpty(call.res, 499);
}

async function copy(ctx: ApiContext, call: Call, bucket: string, source: string, destBucket: string, destName: string, rewrite: boolean): Promise<void> {
  const body = await readJson(call.req);
  const src = await ctx.store.require(bucket, source, call.query.get('sourceGeneration'));
  checkPreconditions(preconditionsFrom(call.query, 'ifSource'), src);
  const staged = ctx.store.stagingFile();
  try {
    await copyFile(ctx.store.dataPath(src), staged);
    const override = writableFrom(body);
    const meta: WritableMetadata = { ...pickMeta(src), ...override };
    const record = await ctx.store.commit(destBucket, destName, { file: staged, size: src.size, md5Hash: src.md5Hash, crc32c: src.crc32c }, meta, preconditionsFrom(call.query));
    const resource = objectResource(record, call.base);
    if (!rewrite) return reply(call, resource);
    reply(call, { kind: 'storage#rewriteResponse', totalBytesRewritten: String(record.size), objectSize: String(record.size), done: true, resource });
  } finally {
    await rm(staged, { force: true });
  }
}

function pickMeta(r: ObjectRecord): WritableMetadata {
  const out: WritableMetadata = {};
  for (const f of WRITABLE_FIELDS) if (r[f]) out[f] = r[f];
  if (r.metadata) out.metadata = r.metadata;
  return out;
}

const composeSchema = z.object({
  sourceObjects: z
    .array(
      z.object({
        name: z.string().min(1),
        generation: z.union([z.string(), z.number()]).optional(),
        objectPreconditions: z.object({ ifGenerationMatch: z.union([z.string(), z.number()]).optional() }).optional(),
      }),
    )
    .min(1)
    .max(32),
  destination: z.record(z.string(), z.unknown()).optional(),
});

async function compose(ctx: ApiContext, call: Call, bucket: string, destName: string): Promise<void> {
  const body = composeSchema.parse(await readJson(call.req));
  const sources: ObjectRecord[] = [];
  for (const s of body.sourceObjects) {
    const r = await ctx.store.require(bucket, s.name, s.generation === undefined ? undefined : String(s.generation));
    const want = s.objectPreconditions?.ifGenerationMatch;
    if (want !== undefined) checkPreconditions({ ifGenerationMatch: String(want) }, r);
    sources.push(r);
  }
  const staged = ctx.store.stagingFile();
  try {
    const out = createWriteStream(staged);
    for (const r of sources) await pipeline(createReadStream(ctx.store.dataPath(r)), out, { end: false });
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    const meta = writableFrom(body.destination ?? {});
    const components = sources.reduce((n, r) => n + (r.componentCount ?? 1), 0);
    const record = await ctx.store.commit(bucket, destName, { file: staged, ...(await hashFile(staged)) }, meta, preconditionsFrom(call.query), { componentCount: components });
    reply(call, objectResource(record, call.base));
  } finally {
    await rm(staged, { force: true });
  }
}

async function admin(ctx: ApiContext, call: Call, method: string, seg: string[]): Promise<void> {
  if (seg[0] === 'notifications' && seg.length === 1) {
    if (method === 'GET') return reply(call, { items: ctx.notifications.all() });
    if (method === 'POST') {
      const body = (await readJson(call.req)) as NotificationInput;
      return reply(call, await ctx.notifications.add(body));
    }
  }
  if (seg[0] === 'notifications' && seg.length === 2 && method === 'DELETE') {
    if (!(await ctx.notifications.remove(seg[1]!))) throw new GcsError(404, 'No such notification.', 'notFound');
    return sendEmpty(call.res, 204);
  }
  if (seg[0] === 'delivery' && method === 'PUT') {
    const body = z.object({ duplicates: z.number().int().min(1).optional(), shuffle: z.boolean().optional() }).parse(await readJson(call.req));
    ctx.setDelivery(body);
    return reply(call, body);
  }
  if (seg[0] === 'idle' && method === 'GET') {
    await ctx.idle();
    return reply(call, { idle: true });
  }
  throw new GcsError(404, `Not found: ${method} /emulator/${seg.join('/')}`, 'notFound');
}
