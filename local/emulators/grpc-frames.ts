import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Reader, Root, type Type } from 'protobufjs';

/**
 * What a Firestore bill would count, read off the gRPC messages the client and the emulator
 * exchange (the emulator itself counts nothing). Pure: chunks in, counts out; the proxy in
 * firestore-op-counter.ts feeds it copies of what it forwards.
 *
 * Billing rules followed (https://firebase.google.com/docs/firestore/pricing, the same page as
 * https://cloud.google.com/firestore/pricing):
 * - a document returned by a get, a query or a listener is one read, and a listener reads a
 *   document again each time it changes (not when the emulator merely resends it, see isNewDelivery);
 * - a get of a document that does not exist is one read too: the lookup is billed like any other
 *   (the page's minimum of one read a request); `missing` counts these apart so a report can show them;
 * - a query that returns nothing is billed that minimum of one read;
 * - an aggregation (count/sum/avg) is one read per up to 1000 index entries it scans
 *   (#aggregation_queries): the response does not say how many it scanned, so each aggregation
 *   result counts one read, exact up to 1000 matching documents;
 * - a failed RPC is not billed (googleapis/google-cloud-go#2765, a Google maintainer): writes
 *   count only once the call ends with grpc-status 0, so a `create` that fails ALREADY_EXISTS
 *   writes nothing.
 * REST calls over HTTP/1.1 are counted as calls only: their reads and writes are not decoded.
 */
export interface FirestoreOpCounts {
  /** RPCs started, by method name (`Commit`, `RunQuery`, ...); HTTP/1.1 REST calls as `rest <HTTP method> <action>` */
  calls: Record<string, number>;
  /** billed document reads, `missing` included */
  reads: number;
  /** gets of documents that do not exist (BatchGetDocuments `missing`, GetDocument NOT_FOUND) */
  missing: number;
  /** documents written: the Write entries of successful commits, batch writes and Write streams, deletes included */
  writes: number;
  /** the writes above that are deletes (billed as document deletes) */
  deletes: number;
  /** compressed messages, counted as calls but not decoded */
  undecoded: number;
  /** messages or frames that could not be parsed (never thrown: forwarding goes on) */
  parseErrors: number;
}

export function emptyCounts(): FirestoreOpCounts {
  return { calls: {}, reads: 0, missing: 0, writes: 0, deletes: 0, undecoded: 0, parseErrors: 0 };
}

export function copyCounts(c: FirestoreOpCounts): FirestoreOpCounts {
  return { ...c, calls: { ...c.calls } };
}

export interface GrpcFrame {
  /** flag byte 1: the message is compressed with the call's grpc-encoding */
  compressed: boolean;
  message: Buffer;
}

/** Bigger than any message the Firestore API allows; past it the reader gives up instead of buffering without end. */
const MAX_FRAME_BYTES = 64 * 1024 * 1024;

/**
 * Splits a gRPC byte stream (1 flag byte, 4-byte big-endian length, the message) into whole
 * frames, whatever the DATA chunks' boundaries. Holds chunks by reference and joins them only
 * once a frame is complete, so a big message in many chunks is copied once.
 */
export class GrpcFrameReader {
  private chunks: Buffer[] = [];
  private size = 0;
  private frameBytes: number | undefined;

  push(chunk: Buffer): GrpcFrame[] {
    if (chunk.length === 0) return [];
    this.chunks.push(chunk);
    this.size += chunk.length;
    const frames: GrpcFrame[] = [];
    for (;;) {
      if (this.frameBytes === undefined) {
        if (this.size < 5) break;
        const head = this.peek(5);
        if (head[0]! > 1) throw new Error(`gRPC frame flag ${head[0]} is neither 0 nor 1`);
        this.frameBytes = 5 + head.readUInt32BE(1);
        if (this.frameBytes > MAX_FRAME_BYTES) throw new Error(`gRPC frame of ${this.frameBytes} bytes is over ${MAX_FRAME_BYTES}`);
      }
      if (this.size < this.frameBytes) break;
      const frame = this.take(this.frameBytes);
      this.frameBytes = undefined;
      frames.push({ compressed: frame[0] === 1, message: frame.subarray(5) });
    }
    return frames;
  }

  /** bytes held that do not make a whole frame yet */
  get buffered(): number {
    return this.size;
  }

  private peek(n: number): Buffer {
    const first = this.chunks[0]!;
    return first.length >= n ? first.subarray(0, n) : Buffer.concat(this.chunks, n);
  }

  private take(n: number): Buffer {
    const parts: Buffer[] = [];
    let got = 0;
    while (got < n) {
      const c = this.chunks[0]!;
      const want = n - got;
      if (c.length <= want) {
        parts.push(c);
        got += c.length;
        this.chunks.shift();
      } else {
        parts.push(c.subarray(0, want));
        this.chunks[0] = c.subarray(want);
        got = n;
      }
    }
    this.size -= n;
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, n);
  }
}

const SERVICE_PREFIX = '/google.firestore.v1.Firestore/';

/** `/google.firestore.v1.Firestore/Commit` -> `Commit`; any other gRPC path is named by its whole path */
export function rpcMethodName(path: string): string {
  return path.startsWith(SERVICE_PREFIX) ? path.slice(SERVICE_PREFIX.length) : path;
}

/** `rest GET document`, `rest POST :runQuery`, `rest DELETE emulator` for the emulator's HTTP/1.1 REST API */
export function restCallName(method: string, path: string): string {
  const clean = path.split('?')[0]!;
  if (clean.startsWith('/emulator/')) return `rest ${method} emulator`;
  const last = clean.slice(clean.lastIndexOf('/') + 1);
  const colon = last.indexOf(':');
  if (colon >= 0) return `rest ${method} ${last.slice(colon)}`;
  // .../documents/{collection}/{doc}: an odd count of segments after `documents` is a collection
  const after = clean.split('/documents')[1]?.split('/').filter(Boolean).length ?? 0;
  return `rest ${method} ${after % 2 === 1 ? 'collection' : 'document'}`;
}

/** The field numbers the counting needs, taken from the Firestore v1 descriptor that ships with @google-cloud/firestore. */
export interface FirestoreFieldIds {
  commitWrites: number;
  batchWriteWrites: number;
  writeRequestWrites: number;
  writeDelete: number;
  batchWriteStatus: number;
  statusCode: number;
  batchGetFound: number;
  batchGetMissing: number;
  runQueryDocument: number;
  aggregationResult: number;
  listenDocumentChange: number;
  documentChangeDocument: number;
  documentName: number;
  documentUpdateTime: number;
  listDocuments: number;
}

export function firestoreV1DescriptorPath(): string {
  // build/src/index.js -> build/protos/v1.json (the package's exports do not name the file)
  return join(dirname(require.resolve('@google-cloud/firestore')), '..', 'protos', 'v1.json');
}

let cachedIds: FirestoreFieldIds | undefined;

export function firestoreFieldIds(root?: Root): FirestoreFieldIds {
  if (!root && cachedIds) return cachedIds;
  const r = root ?? Root.fromJSON(JSON.parse(readFileSync(firestoreV1DescriptorPath(), 'utf8')));
  const id = (type: string, field: string): number => {
    const t: Type = r.lookupType(type);
    const f = t.fields[field];
    if (!f) throw new Error(`${type} has no field ${field} in the Firestore v1 descriptor`);
    return f.id;
  };
  const v1 = 'google.firestore.v1.';
  const ids: FirestoreFieldIds = {
    commitWrites: id(`${v1}CommitRequest`, 'writes'),
    batchWriteWrites: id(`${v1}BatchWriteRequest`, 'writes'),
    writeRequestWrites: id(`${v1}WriteRequest`, 'writes'),
    writeDelete: id(`${v1}Write`, 'delete'),
    batchWriteStatus: id(`${v1}BatchWriteResponse`, 'status'),
    statusCode: id('google.rpc.Status', 'code'),
    batchGetFound: id(`${v1}BatchGetDocumentsResponse`, 'found'),
    batchGetMissing: id(`${v1}BatchGetDocumentsResponse`, 'missing'),
    runQueryDocument: id(`${v1}RunQueryResponse`, 'document'),
    aggregationResult: id(`${v1}RunAggregationQueryResponse`, 'result'),
    listenDocumentChange: id(`${v1}ListenResponse`, 'documentChange'),
    documentChangeDocument: id(`${v1}DocumentChange`, 'document'),
    documentName: id(`${v1}Document`, 'name'),
    documentUpdateTime: id(`${v1}Document`, 'updateTime'),
    listDocuments: id(`${v1}ListDocumentsResponse`, 'documents'),
  };
  if (!root) cachedIds = ids;
  return ids;
}

interface Field {
  id: number;
  /** the bytes of a length-delimited field (wire type 2) */
  bytes?: Uint8Array;
  /** the value of a varint field (wire type 0) */
  varint?: number;
}

/** The top-level fields of one protobuf message, without decoding what is inside them. */
function fields(message: Uint8Array): Field[] {
  const r = Reader.create(message);
  const out: Field[] = [];
  while (r.pos < r.len) {
    const tag = r.uint32();
    const id = tag >>> 3;
    const wire = tag & 7;
    if (wire === 2) out.push({ id, bytes: r.bytes() });
    else if (wire === 0) out.push({ id, varint: r.int32() });
    else {
      r.skipType(wire);
      out.push({ id });
    }
  }
  return out;
}

const OK = 0;
const NOT_FOUND = 5;

interface WritePlan {
  writes: number;
  deletes: number;
}

/**
 * The counting of one RPC: call `request`/`response` with each DATA chunk as it is forwarded,
 * and `end` with the grpc-status the call ended with (undefined if it was reset).
 */
export class FirestoreCallCounter {
  readonly method: string;
  private readonly requests = new GrpcFrameReader();
  private readonly responses = new GrpcFrameReader();
  private requestsBroken = false;
  private responsesBroken = false;
  /** writes the requests asked for, billed only if the call succeeds */
  private pending: WritePlan = { writes: 0, deletes: 0 };
  /** BatchWrite: which of the requested writes are deletes, and which the response says succeeded */
  private batchDeletes: boolean[] = [];
  private batchStatuses: number[] | undefined;
  private documentsReturned = 0;
  /** Listen: the update time each document was last delivered at, by name */
  private delivered = new Map<string, string>();
  private ended = false;

  constructor(
    path: string,
    private readonly counts: FirestoreOpCounts,
    private readonly ids: FirestoreFieldIds = firestoreFieldIds(),
  ) {
    this.method = rpcMethodName(path);
    counts.calls[this.method] = (counts.calls[this.method] ?? 0) + 1;
  }

  request(chunk: Buffer): void {
    if (this.requestsBroken) return;
    try {
      for (const f of this.requests.push(chunk)) this.onRequest(f);
    } catch {
      this.requestsBroken = true;
      this.counts.parseErrors++;
    }
  }

  response(chunk: Buffer): void {
    if (this.responsesBroken) return;
    try {
      for (const f of this.responses.push(chunk)) this.onResponse(f);
    } catch {
      this.responsesBroken = true;
      this.counts.parseErrors++;
    }
  }

  end(grpcStatus: number | undefined): void {
    if (this.ended) return;
    this.ended = true;
    const c = this.counts;
    if (grpcStatus === OK) {
      if (this.method === 'BatchWrite' && this.batchStatuses?.length) {
        this.batchStatuses.forEach((code, i) => {
          if (code !== OK) return;
          c.writes++;
          if (this.batchDeletes[i]) c.deletes++;
        });
      } else {
        c.writes += this.pending.writes;
        c.deletes += this.pending.deletes;
      }
      // the minimum charge: a query or a listing that returns nothing is still one read
      if ((this.method === 'RunQuery' || this.method === 'ListDocuments') && this.documentsReturned === 0) c.reads++;
      if (this.method === 'ListCollectionIds') c.reads++;
    }
    if (this.method === 'GetDocument' && grpcStatus === NOT_FOUND) {
      c.reads++;
      c.missing++;
    }
  }

  private onRequest(frame: GrpcFrame): void {
    if (frame.compressed) {
      this.counts.undecoded++;
      return;
    }
    const ids = this.ids;
    switch (this.method) {
      case 'Commit':
        this.pending = this.plan(frame.message, ids.commitWrites);
        return;
      case 'BatchWrite':
        this.pending = this.plan(frame.message, ids.batchWriteWrites, this.batchDeletes);
        return;
      case 'Write': {
        // a streamed write is acknowledged message by message, not at the call's end: counted as sent
        const sent = this.plan(frame.message, ids.writeRequestWrites);
        this.counts.writes += sent.writes;
        this.counts.deletes += sent.deletes;
        return;
      }
      case 'CreateDocument':
      case 'UpdateDocument':
        this.pending = { writes: 1, deletes: 0 };
        return;
      case 'DeleteDocument':
        this.pending = { writes: 1, deletes: 1 };
        return;
    }
  }

  /** the Write entries of a request; `deletesInOrder` gets, write by write, whether it is a delete */
  private plan(message: Buffer, writesField: number, deletesInOrder?: boolean[]): WritePlan {
    const plan = { writes: 0, deletes: 0 };
    for (const f of fields(message)) {
      if (f.id !== writesField || !f.bytes) continue;
      const isDelete = fields(f.bytes).some((w) => w.id === this.ids.writeDelete);
      plan.writes++;
      if (isDelete) plan.deletes++;
      deletesInOrder?.push(isDelete);
    }
    return plan;
  }

  /**
   * The emulator answers every change to a listened query with a RESET and the whole result set
   * again; Firestore sends (and bills) only the documents that changed. A document this stream
   * has already delivered at the same update time is therefore not a read.
   */
  private isNewDelivery(documentChange: Uint8Array): boolean {
    const document = fields(documentChange).find((f) => f.id === this.ids.documentChangeDocument)?.bytes;
    if (!document) return true;
    let name = '';
    let updateTime = '';
    for (const f of fields(document)) {
      if (f.id === this.ids.documentName && f.bytes) name = Buffer.from(f.bytes).toString('utf8');
      else if (f.id === this.ids.documentUpdateTime && f.bytes) updateTime = Buffer.from(f.bytes).toString('hex');
    }
    if (this.delivered.get(name) === updateTime) return false;
    this.delivered.set(name, updateTime);
    return true;
  }

  private onResponse(frame: GrpcFrame): void {
    if (frame.compressed) {
      this.counts.undecoded++;
      return;
    }
    const ids = this.ids;
    const c = this.counts;
    const has = (id: number): boolean => fields(frame.message).some((f) => f.id === id);
    switch (this.method) {
      case 'BatchGetDocuments':
        for (const f of fields(frame.message)) {
          if (f.id === ids.batchGetFound) c.reads++;
          else if (f.id === ids.batchGetMissing) {
            c.reads++;
            c.missing++;
          }
        }
        return;
      case 'RunQuery':
        if (has(ids.runQueryDocument)) {
          c.reads++;
          this.documentsReturned++;
        }
        return;
      case 'RunAggregationQuery':
        if (has(ids.aggregationResult)) c.reads++;
        return;
      case 'Listen':
        for (const f of fields(frame.message)) if (f.id === ids.listenDocumentChange && f.bytes && this.isNewDelivery(f.bytes)) c.reads++;
        return;
      case 'GetDocument':
        c.reads++;
        return;
      case 'ListDocuments': {
        const n = fields(frame.message).filter((f) => f.id === ids.listDocuments).length;
        c.reads += n;
        this.documentsReturned += n;
        return;
      }
      case 'BatchWrite':
        this.batchStatuses = fields(frame.message)
          .filter((f) => f.id === ids.batchWriteStatus && f.bytes)
          .map((f) => fields(f.bytes!).find((s) => s.id === ids.statusCode)?.varint ?? OK);
        return;
    }
  }
}
