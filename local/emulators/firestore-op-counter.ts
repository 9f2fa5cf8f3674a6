import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { copyCounts, emptyCounts, FirestoreCallCounter, type FirestoreOpCounts, firestoreFieldIds, restCallName } from './grpc-frames';

export type { FirestoreOpCounts } from './grpc-frames';

/**
 * A pass-through proxy in front of the Firestore emulator that counts what a Firestore bill
 * would count (document reads and writes), so a benchmark can report them per image: the
 * emulator counts nothing. Point FIRESTORE_EMULATOR_HOST at `host` and the client speaks
 * plaintext gRPC over HTTP/2 to it; each stream is forwarded as it comes (headers, DATA in
 * both directions, trailers) over one HTTP/2 session to the emulator. HTTP/1.1 (the
 * emulator's REST API on the same port) is forwarded too, counted as calls only.
 *
 * Counting works on copies off to the side (grpc-frames.ts) and never throws, changes or
 * delays what is forwarded.
 */
export interface FirestoreOpCounter {
  /** 127.0.0.1:PORT, the value for FIRESTORE_EMULATOR_HOST */
  readonly host: string;
  counts(): FirestoreOpCounts;
  reset(): void;
  close(): Promise<void>;
}

const { NGHTTP2_CANCEL, NGHTTP2_FLAG_END_STREAM, NGHTTP2_NO_ERROR, NGHTTP2_INTERNAL_ERROR } = http2.constants;
const UNAVAILABLE = 14;

/** connection-specific headers, which HTTP/2 forbids and HTTP/1.1 proxies must not pass on */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host', 'http2-settings', 'te']);

function forwardedHeaders(headers: http2.IncomingHttpHeaders, keep: string[] = []): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (name.startsWith(':') ? !keep.includes(name) : HOP_BY_HOP.has(name)) continue;
    out[name] = value;
  }
  // gRPC requires `te: trailers`, the one value of te HTTP/2 allows
  if (headers.te === 'trailers') out.te = 'trailers';
  return out;
}

function grpcStatus(headers: http2.IncomingHttpHeaders | undefined): number | undefined {
  const v = headers?.['grpc-status'];
  return v === undefined ? undefined : Number(v);
}

export async function startFirestoreOpCounter(opts: { target: string; port?: number }): Promise<FirestoreOpCounter> {
  const [targetHost, targetPort] = splitHostPort(opts.target);
  const ids = firestoreFieldIds();
  const counts = emptyCounts();
  const sockets = new Set<net.Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  let upstream: http2.ClientHttp2Session | undefined;
  let closing = false;

  function upstreamSession(): http2.ClientHttp2Session {
    if (upstream && !upstream.closed && !upstream.destroyed) return upstream;
    const s = http2.connect(`http://${targetHost}:${targetPort}`);
    // a failed connection fails the streams on it (each answers its own client); a new one is made for the next
    s.on('error', () => {});
    const forget = () => {
      if (upstream === s) upstream = undefined;
    };
    s.on('close', forget);
    s.on('goaway', forget);
    upstream = s;
    return s;
  }

  function forwardStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    const call = new FirestoreCallCounter(String(headers[':path'] ?? ''), counts, ids);
    let up: http2.ClientHttp2Stream;
    try {
      up = upstreamSession().request(forwardedHeaders(headers, [':method', ':path']), { endStream: false });
    } catch (err) {
      unavailable(stream, call, err);
      return;
    }
    let trailers: http2.IncomingHttpHeaders | undefined;
    let upstreamEnded = false;
    let answeredHere = false;

    // forwarding first, counting after: each data listener sees the chunk pipe has already written on
    stream.pipe(up);
    stream.on('data', (chunk: Buffer) => call.request(chunk));

    up.on('response', (responseHeaders, flags) => {
      if (stream.destroyed || stream.closed) return;
      if (flags & NGHTTP2_FLAG_END_STREAM) {
        // trailers-only: a gRPC error with no messages, grpc-status in these headers
        upstreamEnded = true;
        call.end(grpcStatus(responseHeaders));
        stream.respond(forwardedHeaders(responseHeaders, [':status']), { endStream: true });
        return;
      }
      stream.respond(forwardedHeaders(responseHeaders, [':status']), { waitForTrailers: true });
      up.pipe(stream);
      up.on('data', (chunk: Buffer) => call.response(chunk));
    });
    up.on('trailers', (t) => {
      trailers = t;
    });
    up.on('end', () => {
      upstreamEnded = true;
    });
    stream.on('wantTrailers', () => {
      call.end(grpcStatus(trailers));
      stream.sendTrailers(trailers ? forwardedHeaders(trailers) : {});
    });

    up.on('error', (err) => {
      if (stream.headersSent) return;
      answeredHere = true;
      unavailable(stream, call, err);
    });
    stream.on('error', () => {});
    up.on('close', () => {
      if (upstreamEnded || answeredHere || stream.closed || stream.destroyed) return;
      // the emulator reset the stream: so does the proxy, with the same code
      call.end(undefined);
      stream.close(up.rstCode || NGHTTP2_INTERNAL_ERROR);
    });
    stream.on('close', () => {
      // the client cancelled (a Listen that is done, a deadline): cancel upstream too
      if (!up.closed && !up.destroyed) up.close(stream.rstCode && stream.rstCode !== NGHTTP2_NO_ERROR ? stream.rstCode : NGHTTP2_CANCEL);
    });
  }

  /** the emulator cannot be reached: answer as gRPC does for a server that is down, so clients retry */
  function unavailable(stream: http2.ServerHttp2Stream, call: FirestoreCallCounter, err: unknown): void {
    call.end(UNAVAILABLE);
    if (stream.destroyed || stream.closed || stream.headersSent) return;
    const message = `firestore-op-counter: the emulator at ${opts.target} is unreachable: ${err instanceof Error ? err.message : String(err)}`;
    stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(UNAVAILABLE), 'grpc-message': encodeURIComponent(message) }, { endStream: true });
  }

  const h2 = http2.createServer();
  h2.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
    s.on('error', () => {});
  });
  h2.on('stream', forwardStream);

  const restAgent = new http.Agent({ keepAlive: true });
  const h1 = http.createServer((req, res) => {
    const name = restCallName(req.method ?? 'GET', req.url ?? '/');
    counts.calls[name] = (counts.calls[name] ?? 0) + 1;
    const up = http.request({ host: targetHost, port: targetPort, method: req.method, path: req.url, headers: forwardedHeaders(req.headers), agent: restAgent }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, forwardedHeaders(upRes.headers) as http.OutgoingHttpHeaders);
      upRes.pipe(res);
    });
    up.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(up);
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });
  });

  // One port for both protocols: an HTTP/2 connection opens with the client preface ("PRI * HTTP/2.0"),
  // anything else is HTTP/1.1. (http2.createServer's allowHTTP1 only works over TLS.)
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const head: Buffer[] = [];
    const sniff = (chunk: Buffer) => {
      head.push(chunk);
      const first = Buffer.concat(head);
      if (first.length < 3 && Buffer.from('PRI').subarray(0, first.length).equals(first)) return;
      socket.off('data', sniff);
      socket.pause();
      socket.unshift(first);
      if (first.subarray(0, 3).toString('latin1') === 'PRI') {
        // the HTTP/2 session reads what was unshifted itself; resuming here would hand it to no one
        h2.emit('connection', socket);
      } else {
        h1.emit('connection', socket);
        socket.resume();
      }
    };
    socket.on('data', sniff);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as net.AddressInfo).port;

  return {
    host: `127.0.0.1:${port}`,
    counts: () => copyCounts(counts),
    reset: () => {
      // zeroed in place: streams in flight (a Listen open across the reset) count on into the new period
      Object.assign(counts, emptyCounts());
    },
    close: async () => {
      if (closing) return;
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sessions) s.destroy();
      for (const s of sockets) s.destroy();
      upstream?.destroy();
      restAgent.destroy();
      await closed;
    },
  };
}

function splitHostPort(target: string): [string, number] {
  const colon = target.lastIndexOf(':');
  const port = Number(target.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port <= 0) throw new Error(`firestore-op-counter: target must be host:port, got ${JSON.stringify(target)}`);
  return [target.slice(0, colon).replace(/^\[|\]$/g, ''), port];
}
