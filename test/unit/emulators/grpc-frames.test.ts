import { readFileSync } from 'node:fs';
import { Root } from 'protobufjs';
import { emptyCounts, FirestoreCallCounter, firestoreV1DescriptorPath, GrpcFrameReader, restCallName, rpcMethodName } from '#local/emulators/grpc-frames';

const root = Root.fromJSON(JSON.parse(readFileSync(firestoreV1DescriptorPath(), 'utf8')));
const PATH = '/google.firestore.v1.Firestore/';

function encode(type: string, value: object): Buffer {
  const t = root.lookupType(`google.firestore.v1.${type}`);
  return Buffer.from(t.encode(t.fromObject(value)).finish());
}

function frame(message: Buffer, compressed = false): Buffer {
  const head = Buffer.alloc(5);
  head[0] = compressed ? 1 : 0;
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
}

const doc = (id: string) => ({ name: `projects/p/databases/(default)/documents/c/${id}`, fields: { id: { stringValue: id } } });
const update = (id: string) => ({ update: doc(id) });

describe('GrpcFrameReader', () => {
  it('gives whole frames however the bytes are chunked', () => {
    const a = Buffer.from('first message');
    const b = Buffer.alloc(0);
    const c = Buffer.alloc(70_000, 7);
    const bytes = Buffer.concat([frame(a), frame(b), frame(c, true)]);

    const oneChunk = new GrpcFrameReader().push(bytes);
    const reader = new GrpcFrameReader();
    const byteByByte = [...bytes].flatMap((x) => reader.push(Buffer.from([x])));

    for (const frames of [oneChunk, byteByByte]) {
      expect(frames.map((f) => [f.compressed, f.message.length])).toEqual([
        [false, a.length],
        [false, 0],
        [true, c.length],
      ]);
      expect(frames[0]!.message.toString()).toBe('first message');
      expect(frames[2]!.message.equals(c)).toBe(true);
    }
    expect(reader.buffered).toBe(0);
  });

  it('holds a partial frame until the rest arrives', () => {
    const bytes = frame(Buffer.from('abcdef'));
    const reader = new GrpcFrameReader();
    expect(reader.push(bytes.subarray(0, 3))).toEqual([]);
    expect(reader.push(bytes.subarray(3, 8))).toEqual([]);
    expect(reader.buffered).toBe(8);
    expect(reader.push(bytes.subarray(8)).map((f) => f.message.toString())).toEqual(['abcdef']);
  });

  it('refuses a flag byte that is not 0 or 1', () => {
    expect(() => new GrpcFrameReader().push(Buffer.from([2, 0, 0, 0, 0]))).toThrow(/flag 2/);
  });
});

describe('FirestoreCallCounter', () => {
  it('counts the calls by method and a commit’s writes once it succeeds', () => {
    const counts = emptyCounts();
    const ok = new FirestoreCallCounter(`${PATH}Commit`, counts);
    const request = frame(encode('CommitRequest', { database: 'd', writes: [update('a'), update('b'), { delete: doc('c').name }] }));
    ok.request(request.subarray(0, 10));
    ok.request(request.subarray(10));
    expect(counts.writes).toBe(0);
    ok.end(0);
    const failed = new FirestoreCallCounter(`${PATH}Commit`, counts);
    failed.request(frame(encode('CommitRequest', { database: 'd', writes: [update('a')] })));
    failed.end(6); // ALREADY_EXISTS: not billed
    expect(counts).toEqual({ ...emptyCounts(), calls: { Commit: 2 }, writes: 3, deletes: 1 });
  });

  it('counts found and missing documents of a BatchGetDocuments as reads', () => {
    const counts = emptyCounts();
    const call = new FirestoreCallCounter(`${PATH}BatchGetDocuments`, counts);
    call.response(
      Buffer.concat([
        frame(encode('BatchGetDocumentsResponse', { found: doc('a') })),
        frame(encode('BatchGetDocumentsResponse', { missing: doc('b').name })),
        frame(encode('BatchGetDocumentsResponse', { found: doc('c') })),
      ]),
    );
    call.end(0);
    expect(counts).toMatchObject({ reads: 3, missing: 1 });
  });

  it('counts one read a document a query returns, and one for a query that returns none', () => {
    const counts = emptyCounts();
    const four = new FirestoreCallCounter(`${PATH}RunQuery`, counts);
    for (const id of ['a', 'b', 'c', 'd']) four.response(frame(encode('RunQueryResponse', { document: doc(id) })));
    four.response(frame(encode('RunQueryResponse', { readTime: { seconds: 1 } })));
    four.end(0);
    expect(counts.reads).toBe(4);
    const none = new FirestoreCallCounter(`${PATH}RunQuery`, counts);
    none.response(frame(encode('RunQueryResponse', { readTime: { seconds: 1 } })));
    none.end(0);
    expect(counts.reads).toBe(5);
  });

  it('counts an aggregation result as one read and a listener’s document changes as one each', () => {
    const counts = emptyCounts();
    const agg = new FirestoreCallCounter(`${PATH}RunAggregationQuery`, counts);
    agg.response(frame(encode('RunAggregationQueryResponse', { result: { aggregateFields: { count: { integerValue: 4000 } } } })));
    agg.end(0);
    const listen = new FirestoreCallCounter(`${PATH}Listen`, counts);
    listen.response(
      Buffer.concat([
        frame(encode('ListenResponse', { targetChange: { targetChangeType: 'ADD', targetIds: [1] } })),
        frame(encode('ListenResponse', { documentChange: { document: doc('a'), targetIds: [1] } })),
        frame(encode('ListenResponse', { documentChange: { document: doc('b'), targetIds: [1] } })),
        frame(encode('ListenResponse', { targetChange: { targetChangeType: 'CURRENT', targetIds: [1] } })),
      ]),
    );
    listen.end(1);
    expect(counts).toMatchObject({ calls: { RunAggregationQuery: 1, Listen: 1 }, reads: 3 });
  });

  it('does not count again a document the emulator resends unchanged after a RESET', () => {
    const counts = emptyCounts();
    const listen = new FirestoreCallCounter(`${PATH}Listen`, counts);
    const at = (id: string, seconds: number) => frame(encode('ListenResponse', { documentChange: { document: { ...doc(id), updateTime: { seconds } }, targetIds: [1] } }));
    listen.response(Buffer.concat([at('a', 1), at('b', 1)]));
    expect(counts.reads).toBe(2);
    // a changed: the emulator resets the target and sends the whole result set again
    listen.response(Buffer.concat([frame(encode('ListenResponse', { targetChange: { targetChangeType: 'RESET', targetIds: [1] } })), at('a', 2), at('b', 1)]));
    expect(counts.reads).toBe(3);
  });

  it('counts the writes of a BatchWrite that the response says succeeded', () => {
    const counts = emptyCounts();
    const call = new FirestoreCallCounter(`${PATH}BatchWrite`, counts);
    call.request(frame(encode('BatchWriteRequest', { database: 'd', writes: [update('a'), { delete: doc('b').name }, update('c')] })));
    call.response(frame(encode('BatchWriteResponse', { writeResults: [{}, {}, {}], status: [{ code: 0 }, { code: 0 }, { code: 6, message: 'exists' }] })));
    call.end(0);
    expect(counts).toMatchObject({ writes: 2, deletes: 1 });
  });

  it('counts a Write stream’s writes as they are sent', () => {
    const counts = emptyCounts();
    const call = new FirestoreCallCounter(`${PATH}Write`, counts);
    call.request(frame(encode('WriteRequest', { database: 'd' })));
    call.request(frame(encode('WriteRequest', { streamId: 's', writes: [update('a'), update('b')] })));
    expect(counts.writes).toBe(2);
    call.end(undefined);
    expect(counts.writes).toBe(2);
  });

  it('counts compressed messages as undecoded and garbage as a parse error, never throwing', () => {
    const counts = emptyCounts();
    const compressed = new FirestoreCallCounter(`${PATH}Commit`, counts);
    compressed.request(frame(Buffer.from([1, 2, 3]), true));
    compressed.end(0);
    const garbage = new FirestoreCallCounter(`${PATH}RunQuery`, counts);
    expect(() => garbage.response(frame(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f])))).not.toThrow();
    garbage.response(frame(encode('RunQueryResponse', { document: doc('a') }))); // the stream's reader has given up
    expect(counts).toMatchObject({ calls: { Commit: 1, RunQuery: 1 }, writes: 0, undecoded: 1, parseErrors: 1, reads: 0 });
  });
});

describe('call names', () => {
  it('names gRPC calls by method and REST calls by HTTP method and action', () => {
    expect(rpcMethodName('/google.firestore.v1.Firestore/RunQuery')).toBe('RunQuery');
    expect(rpcMethodName('/grpc.health.v1.Health/Check')).toBe('/grpc.health.v1.Health/Check');
    const docs = '/v1/projects/p/databases/(default)/documents';
    expect(restCallName('GET', `${docs}/jobs/j1`)).toBe('rest GET document');
    expect(restCallName('GET', `${docs}/jobs/j1/images?pageSize=10`)).toBe('rest GET collection');
    expect(restCallName('POST', `${docs}/jobs/j1:runQuery`)).toBe('rest POST :runQuery');
    expect(restCallName('POST', `${docs}:commit`)).toBe('rest POST :commit');
    expect(restCallName('DELETE', '/emulator/v1/projects/p/databases/(default)/documents')).toBe('rest DELETE emulator');
  });
});
