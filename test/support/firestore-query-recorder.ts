import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import protobuf from 'protobufjs';
import type { StructuredQuery } from '../unit/infra/firestore-index-rules';

/** One query the client sent, decoded from the wire. */
export interface RecordedQuery {
  /** the gRPC method: RunQuery, RunAggregationQuery, or Listen (a query target) */
  method: string;
  parent: string;
  structuredQuery: StructuredQuery;
}

export interface FirestoreQueryRecorder {
  /** host:port to put in FIRESTORE_EMULATOR_HOST */
  hostPort: string;
  queries: RecordedQuery[];
  /** every google.firestore.v1.Firestore method that passed, with its count */
  methods: Map<string, number>;
  /** messages the recorder could not decode (compressed frames, unknown shapes): must stay empty */
  errors: string[];
  close(): Promise<void>;
}

const SERVICE = '/google.firestore.v1.Firestore/';
/** the methods whose requests carry structured queries, and where the query sits in each */
const QUERY_METHODS: Record<string, { type: string; queries: (m: Record<string, any>) => Array<{ parent: string; structuredQuery: StructuredQuery }> }> = {
  RunQuery: { type: 'RunQueryRequest', queries: (m) => (m.structuredQuery ? [{ parent: m.parent, structuredQuery: m.structuredQuery }] : []) },
  RunAggregationQuery: {
    type: 'RunAggregationQueryRequest',
    queries: (m) => (m.structuredAggregationQuery?.structuredQuery ? [{ parent: m.parent, structuredQuery: m.structuredAggregationQuery.structuredQuery }] : []),
  },
  Listen: { type: 'ListenRequest', queries: (m) => (m.addTarget?.query?.structuredQuery ? [{ parent: m.addTarget.query.parent, structuredQuery: m.addTarget.query.structuredQuery }] : []) },
};
/** methods that run a query by another route, which this recorder does not decode */
const UNDECODED_QUERY_METHODS = new Set(['PartitionQuery', 'ExecutePipeline']);

let root: protobuf.Root | undefined;
function protos(): protobuf.Root {
  // The descriptor the client itself is generated from (the package's exports hide the path).
  root ??= protobuf.Root.fromJSON(JSON.parse(readFileSync(join(dirname(require.resolve('@google-cloud/firestore')), '..', 'protos', 'v1.json'), 'utf8')) as protobuf.INamespace);
  return root;
}

/**
 * A transparent HTTP/2 (gRPC, cleartext) proxy in front of the Firestore emulator that decodes
 * the structured query in every RunQuery, RunAggregationQuery and Listen request the real
 * client sends, so tests can hold them against terraform's indexes (the emulator enforces none).
 * Bytes pass through unchanged, in both directions, trailers included.
 */
export async function startFirestoreQueryRecorder(upstream: string): Promise<FirestoreQueryRecorder> {
  const queries: RecordedQuery[] = [];
  const methods = new Map<string, number>();
  const errors: string[] = [];
  const sessions = new Set<http2.ServerHttp2Session>();
  const upstreamSession = http2.connect(`http://${upstream}`);
  upstreamSession.on('error', (err) => errors.push(`upstream session: ${err.message}`));

  const server = http2.createServer();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  server.on('stream', (stream, headers) => {
    const path = String(headers[':path'] ?? '');
    const method = path.startsWith(SERVICE) ? path.slice(SERVICE.length) : path;
    methods.set(method, (methods.get(method) ?? 0) + 1);
    if (UNDECODED_QUERY_METHODS.has(method)) errors.push(`${method} runs a query this recorder does not decode`);
    const forward: http2.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(headers)) if (!k.startsWith(':') || k === ':path' || k === ':method') forward[k] = v;
    const up = upstreamSession.request(forward);

    const spec = QUERY_METHODS[method];
    if (spec) {
      const type = protos().lookupType(`google.firestore.v1.${spec.type}`);
      const frames = grpcFrames((message, compressed) => {
        if (compressed) return void errors.push(`${method}: a compressed message (grpc-encoding ${String(headers['grpc-encoding'])}) was not decoded`);
        try {
          const obj = type.toObject(type.decode(message), { enums: String, longs: String, bytes: String, defaults: false }) as Record<string, any>;
          for (const q of spec.queries(obj)) queries.push({ method, parent: q.parent, structuredQuery: q.structuredQuery });
        } catch (err) {
          errors.push(`${method}: ${(err as Error).message}`);
        }
      });
      stream.on('data', frames);
    }
    stream.pipe(up);

    let trailers: http2.IncomingHttpHeaders | undefined;
    up.on('trailers', (t) => (trailers = t));
    up.on('response', (h, flags) => {
      const out: http2.OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(h)) if (!k.startsWith(':') || k === ':status') out[k] = v;
      // A trailers-only answer (an error status with no body) ends in its headers frame.
      const ended = (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0;
      if (stream.destroyed) return;
      stream.respond(out, ended ? { endStream: true } : { waitForTrailers: true });
      if (ended) return;
      stream.on('wantTrailers', () => {
        const send = () => {
          const t: http2.OutgoingHttpHeaders = {};
          for (const [k, v] of Object.entries(trailers ?? {})) if (!k.startsWith(':')) t[k] = v;
          if (!stream.destroyed) stream.sendTrailers(t);
        };
        if (trailers) send();
        else
          up.once('trailers', (t) => {
            trailers = t;
            send();
          });
      });
      up.pipe(stream);
    });
    const reset = (target: http2.Http2Stream, code: number | undefined) => {
      if (!target.destroyed && !target.closed) target.close(code ?? http2.constants.NGHTTP2_CANCEL);
    };
    stream.on('close', () => reset(up, stream.rstCode));
    up.on('close', () => {
      if (up.rstCode && up.rstCode !== http2.constants.NGHTTP2_NO_ERROR) reset(stream, up.rstCode);
    });
    stream.on('error', () => undefined);
    up.on('error', () => undefined);
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    hostPort: `127.0.0.1:${port}`,
    queries,
    methods,
    errors,
    async close() {
      for (const s of sessions) s.destroy();
      upstreamSession.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Splits a gRPC request body into its length-prefixed messages, across chunk boundaries. */
function grpcFrames(onMessage: (message: Buffer, compressed: boolean) => void): (chunk: Buffer) => void {
  let buf = Buffer.alloc(0);
  return (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 5) {
      const len = buf.readUInt32BE(1);
      if (buf.length < 5 + len) break;
      onMessage(buf.subarray(5, 5 + len), buf[0] === 1);
      buf = buf.subarray(5 + len);
    }
  };
}
