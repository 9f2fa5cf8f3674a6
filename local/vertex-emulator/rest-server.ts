import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Metadata, status, type MethodDefinition, type UntypedHandleCall } from '@grpc/grpc-js';
import { ApiError, httpStatusOf } from './api-error';
import type { EmulatorContext } from './context';
import { parseFaults, type VertexFaults } from './faults';
import type { HttpRoute } from './http-rules';
import { splitRequestPath } from './path-template';
import { decodeRequest, encodeResponse } from './transcoder';

/** A method the gRPC server serves: its (de)serializers and the very handler grpc-js calls. */
export interface RpcMethod {
  definition: MethodDefinition<unknown, unknown>;
  handler: UntypedHandleCall;
}

/** By grpc-js path, /package.Service/Method. */
export type RpcRegistry = Map<string, RpcMethod>;

/** Requests as large as the gRPC side takes (32 MiB); predict applies Vertex AI's own limit itself. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;

/**
 * The HTTP side: Vertex AI's v1 REST API, every route derived from the `google.api.http` rules
 * of the methods the gRPC side serves and answered by the same handlers (transcoder.ts does
 * the JSON), plus `GET|PUT /emulator/faults` so another process can change the injected faults
 * of a running emulator. Any `Authorization` header is accepted, as on the gRPC side.
 */
export async function startRestServer(ctx: EmulatorContext, port: number, setFaults: (f: VertexFaults) => void, rpcs: RpcRegistry, routes: HttpRoute[]): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    handle(ctx, req, res, setFaults, rpcs, routes).catch((err: unknown) => sendError(res, err, ctx));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}

async function handle(ctx: EmulatorContext, req: IncomingMessage, res: ServerResponse, setFaults: (f: VertexFaults) => void, rpcs: RpcRegistry, routes: HttpRoute[]): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  // The raw path: templates match it before percent-decoding (see path-template.ts).
  const rawPath = (req.url ?? '/').split('?')[0];
  if (url.pathname === '/emulator/faults') return faultsRoute(ctx, req, res, setFaults);

  const { path, verb } = splitRequestPath(rawPath);
  const method = (req.headers['x-http-method-override'] as string | undefined)?.toUpperCase() ?? req.method ?? 'GET';
  let allowed: string[] = [];
  for (const route of routes) {
    const vars = route.template.match(path, verb);
    if (!vars) continue;
    if (route.httpMethod !== method) {
      allowed.push(route.httpMethod);
      continue;
    }
    return call(ctx, req, res, route, vars, url.searchParams, rpcs);
  }
  allowed = [...new Set(allowed)];
  throw new ApiError(
    status.NOT_FOUND,
    allowed.length
      ? `${method} is not a method of ${url.pathname}; it takes ${allowed.join(', ')}.`
      : `${method} ${url.pathname} is not a route of the Vertex AI v1 REST API served here (or GET/PUT /emulator/faults).`,
  );
}

async function call(_ctx: EmulatorContext, req: IncomingMessage, res: ServerResponse, route: HttpRoute, vars: Map<string, string>, query: URLSearchParams, rpcs: RpcRegistry): Promise<void> {
  const rpc = rpcs.get(route.rpcPath);
  if (!rpc || route.method.responseStream) {
    throw new ApiError(status.UNIMPLEMENTED, `${route.rpcPath.slice(1).replace('/', '.')} is not implemented by this emulator.`);
  }
  const body = await readBody(req, MAX_BODY_BYTES);
  const message = decodeRequest(route, { vars, query, body, contentType: req.headers['content-type'] });
  const requestType = route.method.resolvedRequestType!;
  const request = rpc.definition.requestDeserialize(Buffer.from(requestType.encode(message).finish()));
  const sent = new Metadata();
  const response = await invoke(rpc.handler, fakeUnaryCall(req, route.rpcPath, request, sent));
  const decoded = route.method.resolvedResponseType!.decode(rpc.definition.responseSerialize(response));
  const out = encodeResponse(route, decoded);
  const headers: Record<string, string | number> = { 'content-type': out.contentType, 'content-length': out.body.length };
  for (const [key, value] of Object.entries(sent.getMap())) if (typeof value === 'string') headers[key] = value;
  res.writeHead(200, headers);
  res.end(out.body);
}

/** Calls a grpc-js unary handler and turns its callback into a promise; a status error becomes an ApiError. */
function invoke(handler: UntypedHandleCall, call: object): Promise<unknown> {
  return new Promise((resolve, reject) => {
    (handler as (call: object, cb: (err: { code?: number; details?: string; message?: string } | null, value?: unknown) => void) => void)(call, (err, value) => {
      if (err) reject(new ApiError(err.code ?? status.UNKNOWN, err.details ?? err.message ?? 'error'));
      else resolve(value);
    });
  });
}

/** What a unary handler may touch of its ServerUnaryCall, from an HTTP request; the headers are its metadata, as grpc-gateway passes them. */
function fakeUnaryCall(req: IncomingMessage, rpcPath: string, request: unknown, sent: Metadata): object {
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(req.headers)) {
    if (value === undefined || ['content-length', 'connection', 'transfer-encoding', 'host'].includes(key)) continue;
    try {
      for (const v of Array.isArray(value) ? value : [value]) metadata.add(key, v);
    } catch {
      // a header grpc metadata cannot carry (binary suffix, odd name): not needed by any handler
    }
  }
  const call = new EventEmitter();
  return Object.assign(call, {
    request,
    metadata,
    cancelled: false,
    getPeer: () => `${req.socket.remoteAddress ?? ''}:${req.socket.remotePort ?? ''}`,
    getPath: () => rpcPath,
    getHost: () => req.headers.host ?? '',
    getDeadline: () => Infinity,
    sendMetadata: (md: Metadata) => sent.merge(md),
  });
}

async function faultsRoute(ctx: EmulatorContext, req: IncomingMessage, res: ServerResponse, setFaults: (f: VertexFaults) => void): Promise<void> {
  if (req.method === 'GET') return sendJson(res, 200, ctx.faults.get());
  if (req.method !== 'PUT') throw new ApiError(status.NOT_FOUND, `${req.method} /emulator/faults: use GET or PUT.`);
  let faults: VertexFaults;
  try {
    faults = parseFaults(JSON.parse((await readBody(req, 1 << 20)).toString('utf8')));
  } catch (err) {
    throw new ApiError(status.INVALID_ARGUMENT, `faults: ${err instanceof Error ? err.message : String(err)}`);
  }
  setFaults(faults);
  return sendJson(res, 200, faults);
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new ApiError(status.INVALID_ARGUMENT, `Request payload size exceeds the limit: ${limit} bytes.`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** google.rpc.Status as Google's REST front end sends it: {error: {code: <HTTP status>, message, status: <gRPC code name>}}. */
function sendError(res: ServerResponse, err: unknown, ctx: EmulatorContext): void {
  const code = err instanceof ApiError ? err.code : status.INTERNAL;
  if (!(err instanceof ApiError)) ctx.log.error('REST handler failed', { err });
  const message = err instanceof Error ? err.message : String(err);
  if (res.headersSent) return void res.end();
  sendJson(res, httpStatusOf(code), { error: { code: httpStatusOf(code), message, status: status[code] } });
}
