/**
 * google.protobuf.Value in the object form @grpc/proto-loader gives and takes (oneofs: true),
 * converted to and from plain JSON values. Predict's instances and predictions travel as these.
 */
export interface ProtoValue {
  nullValue?: 'NULL_VALUE' | number;
  numberValue?: number;
  stringValue?: string;
  boolValue?: boolean;
  structValue?: { fields?: Record<string, ProtoValue> };
  listValue?: { values?: ProtoValue[] };
  kind?: string;
}

export type Json = null | number | string | boolean | Json[] | { [k: string]: Json };

export function fromProtoValue(v: ProtoValue | null | undefined): Json {
  if (!v) return null;
  switch (v.kind) {
    case 'numberValue':
      return v.numberValue ?? 0;
    case 'stringValue':
      return v.stringValue ?? '';
    case 'boolValue':
      return v.boolValue ?? false;
    case 'structValue':
      return Object.fromEntries(Object.entries(v.structValue?.fields ?? {}).map(([k, x]) => [k, fromProtoValue(x)]));
    case 'listValue':
      return (v.listValue?.values ?? []).map(fromProtoValue);
    default:
      break;
  }
  // Without the oneof discriminator (e.g. a REST body already decoded), look at what is set.
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.numberValue !== undefined) return v.numberValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.structValue !== undefined) return fromProtoValue({ ...v, kind: 'structValue' });
  if (v.listValue !== undefined) return fromProtoValue({ ...v, kind: 'listValue' });
  return null;
}

export function toProtoValue(j: Json | undefined): ProtoValue {
  if (j === null || j === undefined) return { nullValue: 'NULL_VALUE' };
  if (typeof j === 'number') return { numberValue: j };
  if (typeof j === 'string') return { stringValue: j };
  if (typeof j === 'boolean') return { boolValue: j };
  if (Array.isArray(j)) return { listValue: { values: j.map(toProtoValue) } };
  return { structValue: { fields: Object.fromEntries(Object.entries(j).map(([k, x]) => [k, toProtoValue(x)])) } };
}
