import { Agent, createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface DuplicatingProxy {
  url: string;
  /** pushes received, copies forwarded, and connections refused while the target was down */
  counts: { received: number; forwarded: number; refused: number };
  close(): Promise<void>;
}

/** how long a push waits for a restarting target before it is answered 502 */
const TARGET_DOWN_WAIT_MS = 60_000;
const TARGET_DOWN_POLL_MS = 100;

/**
 * Stands between a push subscription and a function and delivers every push `copies` times
 * at once, as at-least-once delivery may. The subscription sees the first copy's status, so a
 * failed first copy is redelivered as usual; the other copies' outcomes are dropped, as a
 * duplicate delivery's acknowledgement is.
 *
 * It also plays the part of Cloud Run's front end: a push that arrives while the function's
 * process is down (killed, restarting) waits for it to listen again instead of being refused,
 * because a push endpoint is a service, not one instance. Requests that were in flight on a
 * killed process still fail (502), as they do on Cloud Run. Without this the gcloud Pub/Sub
 * emulator re-pushes a refused message at once, burns every message's delivery attempts
 * against the closed port in a few seconds and dead-letters them.
 */
export async function startDuplicatingProxy(target: () => string, copies = 2): Promise<DuplicatingProxy> {
  const counts = { received: 0, forwarded: 0, refused: 0 };
  // No keep-alive: a socket pooled from the killed process must never carry a new push.
  const agent = new Agent({ keepAlive: false });
  const forward = (req: IncomingMessage, body: Buffer, giveUpAt: number): Promise<{ status: number; body: Buffer }> =>
    new Promise((resolve) => {
      const url = new URL(req.url ?? '/', target());
      const fwd = request(url, { method: req.method, agent, headers: { ...req.headers, host: url.host, connection: 'close' } }, (r) => {
        void readBody(r).then((b) => resolve({ status: r.statusCode ?? 502, body: b }));
      });
      fwd.on('error', (err: NodeJS.ErrnoException) => {
        // Refused means nothing was delivered: safe to try again once the target listens.
        if (err.code === 'ECONNREFUSED' && Date.now() < giveUpAt) {
          counts.refused++;
          setTimeout(() => void forward(req, body, giveUpAt).then(resolve), TARGET_DOWN_POLL_MS);
          return;
        }
        resolve({ status: 502, body: Buffer.from(String(err)) });
      });
      fwd.end(body);
    });
  const server: Server = createServer((req, res) => {
    void readBody(req).then((body) => {
      counts.received++;
      const giveUpAt = Date.now() + TARGET_DOWN_WAIT_MS;
      const all = Array.from({ length: copies }, () => {
        counts.forwarded++;
        return forward(req, body, giveUpAt);
      });
      void all[0]!.then(({ status, body: b }) => res.writeHead(status).end(b));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    counts,
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
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
