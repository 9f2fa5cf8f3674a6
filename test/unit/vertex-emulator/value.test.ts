import { fromProtoValue, toProtoValue, type Json } from '#local/vertex-emulator/value';

describe('google.protobuf.Value conversion', () => {
  it('round-trips JSON through the proto-loader object form', () => {
    const v: Json = { string_input: { b64: 'AAEC' }, n: 1.5, ok: true, list: [1, 'a', null] };
    const proto = toProtoValue(v);
    const withKinds = JSON.parse(JSON.stringify(proto), (_k, x) => {
      if (x && typeof x === 'object' && !Array.isArray(x)) {
        const kind = ['nullValue', 'numberValue', 'stringValue', 'boolValue', 'structValue', 'listValue'].find((k) => k in x);
        if (kind) return { ...x, kind };
      }
      return x;
    });
    expect(fromProtoValue(withKinds)).toEqual(v);
    expect(fromProtoValue(proto)).toEqual(v);
  });
});
