import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface DuplicatingProxy {
  url: string;
  /** pushes received, and copies forwarded */
  counts: { received: number; forwarded: number };
  close(): Promise<void>;
}

/**
 * Stands between a push subscription and a function and delivers every push `copies` times
 * at once, as at-least-once delivery may. The subscription sees the first copy's status, so a
 * failed first copy is redelivered as usual; the other copies' outcomes are dropped, as a
 * duplicate delivery's acknowledgement is.
 */
export async function startDuplicatingProxy(target: () => string, copies = 2): Promise<DuplicatingProxy> {
  const counts = { received: 0, forwarded: 0 };
  const server: Server = createServer((req, res) => {
    void readBody(req).then((body) => {
      counts.received++;
      const url = new URL(req.url ?? '/', target());
      const send = () =>
        new Promise<{ status: number; body: Buffer }>((resolve) => {
          counts.forwarded++;
          const fwd = request(url, { method: req.method, headers: { ...req.headers, host: url.host } }, (r) => {
            void readBody(r).then((b) => resolve({ status: r.statusCode ?? 502, body: b }));
          });
          fwd.on('error', (err) => resolve({ status: 502, body: Buffer.from(String(err)) }));
          fwd.end(body);
        });
      const all = Array.from({ length: copies }, send);
      void all[0]!.then(({ status, body: b }) => res.writeHead(status).end(b));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    counts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', () => resolve(Buffer.concat(chunks)));
  });
}
