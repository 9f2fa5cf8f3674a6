import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The stack's own tiny HTTP server on 127.0.0.1: `GET /ping` answers with the stack's pid, so
 * other commands can tell a live stack from a stale stack.json whose pid was reused.
 * `GET /firestore-ops` answers with the functions' Firestore calls, document reads and writes
 * so far when the stack counts them (`up --count-firestore-ops`), else 404.
 */
export async function startControlServer(opts: { firestoreOps?: () => unknown } = {}): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/ping') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ pid: process.pid }));
      return;
    }
    if (req.method === 'GET' && req.url === '/firestore-ops' && opts.firestoreOps) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(opts.firestoreOps()));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
