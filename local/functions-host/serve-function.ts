import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { getTestServer } from '@google-cloud/functions-framework/testing';

/**
 * Serves a function registered with the functions framework on 127.0.0.1, the way Cloud Run
 * functions and Eventarc deliver to it:
 * - CloudEvents (binary or structured mode) pass straight through;
 * - a Pub/Sub push body ({message, subscription, deliveryAttempt?}) is turned into the
 *   `google.cloud.pubsub.topic.v1.messagePublished` CloudEvent Eventarc would send, with
 *   MessagePublishedData as its data, so functions see the same payload locally and in the cloud.
 * The status the function answers is passed back, so a push subscription retries and
 * dead-letters exactly as it would behind Eventarc.
 */
export interface ServedFunction {
  readonly name: string;
  readonly url: string;
  close(): Promise<void>;
}

export async function serveFunction(name: string, opts: { port?: number; pubsubSource?: string } = {}): Promise<ServedFunction> {
  const inner = getTestServer(name);
  await listen(inner, 0);
  const innerPort = (inner.address() as AddressInfo).port;
  const front = createServer((req, res) => {
    // A CloudEvent in binary mode (what Eventarc sends for Storage events) needs no rewriting:
    // the framework's own server takes the request itself, without a second HTTP hop.
    if (isBinaryCloudEvent(req)) {
      inner.emit('request', req, res);
      return;
    }
    void readBody(req).then((body) => {
      const { headers, payload } = toCloudEvent(req, body, opts.pubsubSource);
      const fwd = httpRequest({ host: '127.0.0.1', port: innerPort, method: req.method, path: req.url, headers }, (innerRes) => {
        res.writeHead(innerRes.statusCode ?? 500, innerRes.headers);
        innerRes.pipe(res);
      });
      fwd.on('error', (err) => {
        res.writeHead(502).end(String(err));
      });
      fwd.end(payload);
    });
  });
  await listen(front, opts.port ?? 0);
  const port = (front.address() as AddressInfo).port;
  return {
    name,
    url: `http://127.0.0.1:${port}/`,
    close: async () => {
      await Promise.all([closeServer(front), closeServer(inner)]);
    },
  };
}

interface PushBody {
  message: { data?: string; attributes?: Record<string, string>; messageId?: string; message_id?: string; publishTime?: string };
  subscription: string;
  deliveryAttempt?: number;
}

function toCloudEvent(req: IncomingMessage, body: Buffer, pubsubSource?: string): { headers: Record<string, string | string[] | undefined>; payload: Buffer } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return { headers: req.headers, payload: body };
  }
  if (!isPushBody(parsed)) return { headers: req.headers, payload: body };
  const messageId = parsed.message.messageId ?? parsed.message.message_id ?? randomUUID();
  const topic = pubsubSource ?? parsed.subscription.replace('/subscriptions/', '/topics/');
  const data = {
    message: {
      data: parsed.message.data ?? '',
      attributes: parsed.message.attributes ?? {},
      messageId,
      publishTime: parsed.message.publishTime ?? new Date().toISOString(),
    },
    subscription: parsed.subscription,
    ...(parsed.deliveryAttempt !== undefined ? { deliveryAttempt: parsed.deliveryAttempt } : {}),
  };
  const payload = Buffer.from(JSON.stringify(data));
  return {
    payload,
    headers: {
      'content-type': 'application/json',
      'content-length': String(payload.length),
      'ce-specversion': '1.0',
      'ce-id': messageId,
      'ce-source': `//pubsub.googleapis.com/${topic}`,
      'ce-type': 'google.cloud.pubsub.topic.v1.messagePublished',
      'ce-time': data.message.publishTime,
    },
  };
}

function isBinaryCloudEvent(req: IncomingMessage): boolean {
  return !!req.headers['ce-type'] || !req.headers['content-type']?.includes('json');
}

function isPushBody(v: unknown): v is PushBody {
  const b = v as PushBody;
  return !!b && typeof b === 'object' && typeof b.subscription === 'string' && !!b.message && typeof b.message === 'object';
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections?.();
    server.close(() => resolve());
  });
}
