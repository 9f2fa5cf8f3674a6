import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { status } from '@grpc/grpc-js';
import { ApiError, httpStatusOf } from './api-error';
import type { EmulatorContext } from './context';
import { parseFaults, type VertexFaults } from './faults';
import { checkPayloadSize, MAX_PAYLOAD_BYTES, predict } from './predict';
import type { Json } from './value';

/**
 * The HTTP side: `POST /v1/{endpoint}:predict` as Vertex AI's REST API (what the official
 * client sends with fallback 'rest'), and `GET|PUT /emulator/faults` so another process can
 * change the injected faults of a running emulator.
 */
export async function startRestServer(ctx: EmulatorContext, port: number, setFaults: (f: VertexFaults) => void): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    handle(ctx, req, res, setFaults).catch((err: unknown) => sendError(res, err, ctx));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}

async function handle(ctx: EmulatorContext, req: IncomingMessage, res: ServerResponse, setFaults: (f: VertexFaults) => void): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  if (path === '/emulator/faults') {
    if (req.method === 'GET') return sendJson(res, 200, ctx.faults.get());
    if (req.method === 'PUT') {
      let faults: VertexFaults;
      try {
        faults = parseFaults(JSON.parse((await readBody(req, 1 << 20)).toString('utf8')));
      } catch (err) {
        throw new ApiError(status.INVALID_ARGUMENT, `faults: ${err instanceof Error ? err.message : String(err)}`);
      }
      setFaults(faults);
      return sendJson(res, 200, faults);
    }
  }
  const m = /^\/v1\/(projects\/[^/]+\/locations\/[^/]+\/endpoints\/[^/:]+):predict$/.exec(path);
  if (m && req.method === 'POST') {
    const body = await readBody(req, MAX_PAYLOAD_BYTES * 4);
    checkPayloadSize(body.length);
    let parsed: { instances?: Json[] };
    try {
      parsed = JSON.parse(body.toString('utf8')) as { instances?: Json[] };
    } catch {
      throw new ApiError(status.INVALID_ARGUMENT, 'The request body is not valid JSON.');
    }
    const out = await predict(ctx, decodeURIComponent(m[1]), Array.isArray(parsed.instances) ? parsed.instances : []);
    return sendJson(res, 200, out);
  }
  throw new ApiError(status.NOT_FOUND, `${req.method} ${path} is not served here: use POST /v1/{endpoint}:predict, or GET/PUT /emulator/faults.`);
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new ApiError(status.INVALID_ARGUMENT, `Request payload size exceeds the limit: ${MAX_PAYLOAD_BYTES} bytes.`));
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

/** Google's JSON error shape: {error: {code, message, status}}. */
function sendError(res: ServerResponse, err: unknown, ctx: EmulatorContext): void {
  const code = err instanceof ApiError ? err.code : status.INTERNAL;
  if (!(err instanceof ApiError)) ctx.log.error('REST handler failed', { err });
  const message = err instanceof Error ? err.message : String(err);
  if (res.headersSent) return void res.end();
  sendJson(res, httpStatusOf(code), { error: { code: httpStatusOf(code), message, status: status[code] } });
}
