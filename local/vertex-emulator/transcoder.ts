import { fromProto3JSON, toProto3JSON } from 'proto3-json-serializer';
import * as protobuf from 'protobufjs';
import { invalidArgument } from './api-error';
import type { HttpRoute } from './http-rules';

/**
 * HTTP/JSON transcoding as google/api/http.proto defines it, for requests coming in: path
 * variables, then the body ("*": every other field; "field": that field), then, when the body
 * is not "*", query parameters for the rest (`a.b=` for nested fields, repeated by repeating
 * the parameter). JSON is the proto3 JSON mapping (lowerCamelCase names, the proto names also
 * accepted; enums by name; int64 as strings; Timestamp, Duration, FieldMask, Struct, Value and
 * Any with "@type"), done by proto3-json-serializer, the library google-gax uses for REST.
 * A field of type google.api.HttpBody bound to the body receives the raw bytes.
 */
export interface HttpRequestParts {
  vars: Map<string, string>;
  query: URLSearchParams;
  body: Buffer;
  contentType: string | undefined;
}

export interface HttpResponseBody {
  contentType: string;
  body: Buffer;
}

const HTTP_BODY = '.google.api.HttpBody';
const FIELD_MASK = '.google.protobuf.FieldMask';

/** Query parameters every Google API accepts and no request message has (system parameters). */
const SYSTEM_PARAMETERS = new Set([
  'alt',
  '$alt',
  'fields',
  '$fields',
  'key',
  'prettyPrint',
  '$prettyPrint',
  'quotaUser',
  '$.xgafv',
  'callback',
  'access_token',
  'oauth_token',
  'upload_protocol',
  'uploadType',
]);

/** Well-known types whose JSON is not an object of their fields: kept as they are while field names are checked. */
const SPECIAL_JSON = new Set(
  [
    'Any',
    'Value',
    'Struct',
    'ListValue',
    'Timestamp',
    'Duration',
    'FieldMask',
    'DoubleValue',
    'FloatValue',
    'Int64Value',
    'UInt64Value',
    'Int32Value',
    'UInt32Value',
    'BoolValue',
    'StringValue',
    'BytesValue',
  ].map((n) => `.google.protobuf.${n}`),
);

/** The request in proto3 JSON, before it becomes a message: what the path, body and query say. */
export function requestJson(route: HttpRoute, parts: HttpRequestParts): Record<string, unknown> {
  const type = route.method.resolvedRequestType!;
  let json: Record<string, unknown> = {};
  const rawField = httpBodyField(type, route.body);
  if (rawField !== undefined) {
    const raw = { contentType: parts.contentType ?? '', data: parts.body.toString('base64') };
    if (rawField === '') json = raw;
    else json[rawField] = raw;
  } else if (route.body) {
    const parsed = parseJsonBody(parts.body);
    if (route.body === '*') {
      // An empty body is an empty message (POST ...:cancel, ...:wait without one).
      if (parsed !== undefined && !isObject(parsed)) throw invalidArgument(`Invalid JSON payload received. Expected an object for ${type.name}, got ${kindOf(parsed)}.`);
      json = parsed ?? {};
    } else if (parsed !== undefined) {
      setPath(json, type, route.body.split('.'), parsed);
    }
  }
  if (route.body !== '*') bindQuery(json, type, parts.query);
  for (const [path, value] of parts.vars) setPath(json, type, path.split('.'), value);
  return json;
}

/** The request message, ready to encode. Bad JSON or unknown fields answer INVALID_ARGUMENT as Google's front end does. */
export function decodeRequest(route: HttpRoute, parts: HttpRequestParts): protobuf.Message {
  const type = route.method.resolvedRequestType!;
  const json = canonicalNames(type, requestJson(route, parts), '');
  try {
    return fromProto3JSON(type, json as never) ?? type.create();
  } catch (err) {
    throw invalidArgument(`Invalid JSON payload received. ${err instanceof Error ? err.message.replace(/^\w+: /, '') : String(err)}`);
  }
}

/** The response as the HTTP body: proto3 JSON, the rule's response_body field alone, or an HttpBody's raw bytes. */
export function encodeResponse(route: HttpRoute, message: protobuf.Message): HttpResponseBody {
  const type = route.method.resolvedResponseType!;
  let out: unknown = message;
  let outType: protobuf.Type | undefined = type;
  if (route.responseBody) {
    const field = type.fields[protobuf.util.camelCase(route.responseBody)];
    out = (message as unknown as Record<string, unknown>)[field?.name ?? ''];
    outType = field?.resolvedType instanceof protobuf.Type ? field.resolvedType : undefined;
  }
  if (outType?.fullName === HTTP_BODY) {
    const body = (out ?? {}) as { contentType?: string; data?: Uint8Array };
    return { contentType: body.contentType || 'application/octet-stream', body: Buffer.from(body.data ?? []) };
  }
  const json = out instanceof protobuf.Message && outType ? withoutDefaults(outType, toProto3JSON(out)) : (out ?? null);
  return { contentType: 'application/json; charset=utf-8', body: Buffer.from(JSON.stringify(json)) };
}

/**
 * Drops what proto3 does not send: scalars at their default ("", 0, false, the enum's 0)
 * without explicit presence, empty maps and lists, as Google's JSON leaves them out. The
 * handlers build plain objects in which an empty string is as good as absent; protobufjs
 * would otherwise carry it to the JSON. Also inside Any, found by its "@type".
 */
function withoutDefaults(type: protobuf.Type, json: unknown): unknown {
  if (type.fullName === FIELD_MASK && typeof json === 'string')
    return json
      .split(',')
      .map((p) => protobuf.util.camelCase(p))
      .join(',');
  if (!isObject(json)) return json;
  if (type.fullName === '.google.protobuf.Any') {
    const name = typeof json['@type'] === 'string' ? json['@type'].replace(/^.*\//, '') : '';
    const inner = name ? type.root.lookup(name) : null;
    return inner instanceof protobuf.Type && !SPECIAL_JSON.has(inner.fullName) ? withoutDefaults(inner, json) : json;
  }
  if (SPECIAL_JSON.has(type.fullName)) return json;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(json)) {
    const field = type.fields[key];
    if (!field) {
      out[key] = value; // "@type"
      continue;
    }
    const rt = field.resolvedType;
    if (field.map && isObject(value)) {
      if (!Object.keys(value).length) continue;
      out[key] = rt instanceof protobuf.Type ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutDefaults(rt, v)])) : value;
    } else if (Array.isArray(value)) {
      if (!value.length) continue;
      out[key] = rt instanceof protobuf.Type ? value.map((v) => withoutDefaults(rt, v)) : value;
    } else if (rt instanceof protobuf.Type) {
      out[key] = withoutDefaults(rt, value);
    } else {
      const presence = field.partOf !== null || (field.options as Record<string, unknown> | undefined)?.proto3_optional === true;
      const isDefault =
        rt instanceof protobuf.Enum
          ? rt.values[value as string] === 0
          : field.type === 'string' || field.type === 'bytes'
            ? value === ''
            : field.type === 'bool'
              ? value === false
              : value === 0 || value === '0';
      if (presence || !isDefault) out[key] = value;
    }
  }
  return out;
}

function parseJsonBody(body: Buffer): unknown {
  const text = body.toString('utf8');
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw invalidArgument(`Invalid JSON payload received. ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** '' when the request itself is an HttpBody bound with "*", the field name when one HttpBody field takes the body, else undefined. */
function httpBodyField(type: protobuf.Type, body: string | undefined): string | undefined {
  if (!body) return undefined;
  if (body === '*') {
    if (type.fullName === HTTP_BODY) return '';
    return type.fieldsArray.find((f) => f.resolvedType?.fullName === HTTP_BODY)?.name;
  }
  const f = type.fields[protobuf.util.camelCase(body)];
  return f?.resolvedType?.fullName === HTTP_BODY ? f.name : undefined;
}

/** Sets a (possibly nested) field, creating the objects on the way; path variables override what the body said. */
function setPath(json: Record<string, unknown>, type: protobuf.Type, path: string[], value: unknown): void {
  let obj = json;
  let t: protobuf.Type = type;
  path.forEach((name, i) => {
    const field = fieldOf(t, name);
    if (!field) throw invalidArgument(`Invalid JSON payload received. Unknown name "${path.slice(0, i + 1).join('.')}": Cannot find field.`);
    if (i === path.length - 1) {
      obj[field.name] = value;
      return;
    }
    if (!(field.resolvedType instanceof protobuf.Type)) throw invalidArgument(`"${path.slice(0, i + 1).join('.')}" is not a message field.`);
    const next = obj[field.name];
    obj = isObject(next) ? next : (obj[field.name] = {});
    t = field.resolvedType;
  });
}

function bindQuery(json: Record<string, unknown>, type: protobuf.Type, query: URLSearchParams): void {
  for (const [key, value] of query) {
    if (SYSTEM_PARAMETERS.has(key)) continue;
    const path = key.split('.');
    let t: protobuf.Type = type;
    let obj = json;
    for (let i = 0; i < path.length; i++) {
      const field = fieldOf(t, path[i]);
      if (!field) {
        throw invalidArgument(`Invalid JSON payload received. Unknown name "${key}": Cannot bind query parameter. Field '${path[i]}' could not be found in request message.`);
      }
      const last = i === path.length - 1;
      const rt = field.resolvedType;
      if (!last) {
        if (!(rt instanceof protobuf.Type) || field.repeated || field.map) {
          throw invalidArgument(`Invalid JSON payload received. Unknown name "${key}": Cannot bind query parameter. '${path[i]}' is not a singular message field.`);
        }
        const next = obj[field.name];
        obj = isObject(next) ? next : (obj[field.name] = {});
        t = rt;
        continue;
      }
      if (field.map) throw invalidArgument(`Invalid JSON payload received. Cannot bind query parameter "${key}": map fields cannot be query parameters.`);
      const v = queryValue(field, key, value);
      if (field.repeated) {
        const list = Array.isArray(obj[field.name]) ? (obj[field.name] as unknown[]) : (obj[field.name] = []);
        list.push(v);
      } else {
        obj[field.name] = v;
      }
    }
  }
}

/** A query parameter as the JSON value of its field: numbers, booleans, int64 strings, enum names, and the well-known types written as strings. */
function queryValue(field: protobuf.Field, key: string, value: string): unknown {
  const rt = field.resolvedType;
  const bad = (what: string) => invalidArgument(`Invalid value at '${key}' (${what}), "${value}"`);
  if (rt instanceof protobuf.Enum) return /^-?\d+$/.test(value) ? Number(value) : value;
  let scalar = field.type;
  if (rt instanceof protobuf.Type) {
    const name = rt.fullName;
    if (name === '.google.protobuf.Timestamp' || name === '.google.protobuf.Duration' || name === '.google.protobuf.FieldMask') return value;
    if (!SPECIAL_JSON.has(name) || !/Value$/.test(name) || name.endsWith('ListValue') || name === '.google.protobuf.Value') {
      throw invalidArgument(`Invalid JSON payload received. Cannot bind query parameter "${key}": it names a message (${rt.name}), not a value.`);
    }
    scalar = rt.fields.value.type;
  }
  switch (scalar) {
    case 'double':
    case 'float': {
      const n = Number(value);
      if (Number.isNaN(n) && value !== 'NaN') throw bad('TYPE_DOUBLE');
      return value === 'NaN' || value === 'Infinity' || value === '-Infinity' ? value : n;
    }
    case 'int32':
    case 'sint32':
    case 'sfixed32':
    case 'uint32':
    case 'fixed32': {
      if (!/^-?\d+$/.test(value)) throw bad(`TYPE_${scalar.toUpperCase()}`);
      return Number(value);
    }
    case 'int64':
    case 'sint64':
    case 'sfixed64':
    case 'uint64':
    case 'fixed64':
      if (!/^-?\d+$/.test(value)) throw bad(`TYPE_${scalar.toUpperCase()}`);
      return value;
    case 'bool':
      if (value === 'true' || value === '1') return true;
      if (value === 'false' || value === '0') return false;
      throw bad('TYPE_BOOL');
    default:
      return value;
  }
}

/**
 * The JSON with every field under its JSON name (the proto name is accepted too, as the proto3
 * JSON mapping requires), and an unknown name refused as Google's front end refuses it.
 */
function canonicalNames(type: protobuf.Type, json: unknown, at: string): unknown {
  // FieldMask paths are lowerCamelCase in JSON and snake_case in the message (proto3 JSON mapping).
  if (type.fullName === FIELD_MASK && typeof json === 'string')
    return json
      .split(',')
      .map((p) => p.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`))
      .join(',');
  if (!isObject(json) || SPECIAL_JSON.has(type.fullName)) return json;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(json)) {
    const field = fieldOf(type, key);
    if (!field) throw invalidArgument(`Invalid JSON payload received. Unknown name "${key}"${at ? ` at '${at}'` : ''}: Cannot find field.`);
    const rt = field.resolvedType;
    const here = at ? `${at}.${field.name}` : field.name;
    const shapeOk = value === null || (field.map ? isObject(value) : field.repeated ? Array.isArray(value) : !(rt instanceof protobuf.Type) || SPECIAL_JSON.has(rt.fullName) || isObject(value));
    if (!shapeOk) {
      const want = field.map ? 'an object (map)' : field.repeated ? 'a list' : `an object (${(rt as protobuf.Type).name})`;
      throw invalidArgument(`Invalid JSON payload received. Invalid value at '${here}': expected ${want}, got ${kindOf(value)}.`);
    }
    if (!(rt instanceof protobuf.Type) || value === null) out[field.name] = value;
    else if (field.map && isObject(value)) out[field.name] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, canonicalNames(rt, v, `${here}[${k}]`)]));
    else if (field.repeated && Array.isArray(value)) out[field.name] = value.map((v, i) => canonicalNames(rt, v, `${here}[${i}]`));
    else out[field.name] = canonicalNames(rt, value, here);
  }
  return out;
}

function fieldOf(type: protobuf.Type, name: string): protobuf.Field | undefined {
  return type.fields[name] ?? type.fields[protobuf.util.camelCase(name)];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function kindOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
}
