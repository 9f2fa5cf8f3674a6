import { request as httpRequest } from 'node:http';
import type { DocumentData } from '@google-cloud/firestore';
import type { DocumentReader } from './document-reader';

/**
 * A read-only DocumentReader over Firestore's REST API (v1), on node:http(s). Loading the
 * Firestore Node client (google-gax, gRPC, 3.5 MB of generated protos) costs 0.3-0.5 s, more
 * than the whole of `dropship status`; these three calls need none of it (nor fetch, whose
 * first call costs ~70 ms of CPU to set up undici). Values decode
 * as the Node client decodes them (integers as numbers, timestamps as objects with toDate(),
 * bytes as Buffers), so every command prints exactly what it printed through the client.
 */
export interface RestReaderOptions {
  /** http://host:port of the emulator, or https://firestore.googleapis.com */
  baseUrl: string;
  project: string;
  database?: string;
  /** request headers with credentials (the emulator takes `Bearer owner`) */
  headers: () => Promise<Record<string, string>>;
  /** one HTTP exchange; node:http/https unless a test gives its own */
  send?: Send;
}

export type Send = (url: string, init: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string }) => Promise<{ status: number; text: string }>;

/** node:http for the emulator, node:https (loaded only then) for Google Cloud */
export const sendHttp: Send = (url, init) =>
  new Promise((resolve, reject) => {
    const request = url.startsWith('https:') ? (require('node:https') as typeof import('node:https')).request : httpRequest;
    const req = request(url, { method: init.method, headers: init.headers, timeout: 60_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${new URL(url).host} within 60 s`)));
    req.on('error', reject);
    req.end(init.body);
  });

const PAGE_SIZE = 1000;

export function restReader(opts: RestReaderOptions): DocumentReader {
  const send = opts.send ?? sendHttp;
  const root = `projects/${opts.project}/databases/${opts.database ?? '(default)'}/documents`;
  const url = (path: string) => `${opts.baseUrl.replace(/\/$/, '')}/v1/${root}${path ? '/' + path.split('/').map(encodeURIComponent).join('/') : ''}`;

  async function call(href: string, body?: unknown): Promise<unknown> {
    const res = await send(href, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { ...(await opts.headers()), 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (res.status === 404 && body === undefined) return undefined;
    const json = parseJson(res.text);
    if (res.status < 200 || res.status >= 300) {
      const e = (json as { error?: { status?: string; message?: string } } | undefined)?.error;
      throw new Error(`Firestore answered ${res.status}${e?.status ? ` ${e.status}` : ''}: ${e?.message ?? res.text.slice(0, 200)}`);
    }
    return json;
  }

  /** every page of a ListDocuments call */
  async function listPages(collection: string, params: string): Promise<RestDocument[]> {
    const out: RestDocument[] = [];
    let token = '';
    do {
      const page = (await call(`${url(collection)}?pageSize=${PAGE_SIZE}${params}${token ? `&pageToken=${encodeURIComponent(token)}` : ''}`)) as
        | { documents?: RestDocument[]; nextPageToken?: string }
        | undefined;
      out.push(...(page?.documents ?? []));
      token = page?.nextPageToken ?? '';
    } while (token);
    return out;
  }

  return {
    async get(path) {
      const doc = (await call(url(path))) as RestDocument | undefined;
      return doc ? decodeFields(doc.fields) : undefined;
    },
    async list(collection) {
      // RunQuery on the parent, as the client's collection.get() sends: one streamed answer (a JSON array)
      const slash = collection.lastIndexOf('/');
      const parent = slash < 0 ? '' : collection.slice(0, slash);
      const answers = (await call(`${url(parent)}:runQuery`, { structuredQuery: { from: [{ collectionId: collection.slice(slash + 1) }] } })) as Array<{
        document?: RestDocument;
      }>;
      return answers.flatMap((a) => (a.document ? [{ id: idOf(a.document.name), data: decodeFields(a.document.fields) }] : []));
    },
    async listIds(collection) {
      // showMissing, as the client's listDocuments(): a parent that only has subcollections counts
      return (await listPages(collection, '&showMissing=true&mask.fieldPaths=__name__')).map((d) => idOf(d.name));
    },
  };
}

interface RestDocument {
  name: string;
  fields?: Record<string, RestValue>;
}

type RestValue = {
  nullValue?: null;
  booleanValue?: boolean;
  integerValue?: string;
  doubleValue?: number | string;
  timestampValue?: string;
  stringValue?: string;
  bytesValue?: string;
  referenceValue?: string;
  geoPointValue?: { latitude?: number; longitude?: number };
  arrayValue?: { values?: RestValue[] };
  mapValue?: { fields?: Record<string, RestValue> };
};

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const idOf = (name: string) => decodeURIComponent(name.slice(name.lastIndexOf('/') + 1));

export function decodeFields(fields: Record<string, RestValue> | undefined): DocumentData {
  const out: DocumentData = {};
  for (const [k, v] of Object.entries(fields ?? {})) out[k] = decodeValue(v);
  return out;
}

/**
 * A Firestore timestamp as the Node client's Timestamp holds it: the same fields (so JSON of a
 * nested one reads the same) and the same toDate() rounding to milliseconds.
 */
export class RestTimestamp {
  constructor(
    readonly _seconds: number,
    readonly _nanoseconds: number,
  ) {}

  static parse(rfc3339: string): RestTimestamp {
    const m = rfc3339.match(/^(.*?)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/);
    if (!m) throw new Error(`not an RFC 3339 timestamp: ${rfc3339}`);
    const seconds = Math.floor(Date.parse(`${m[1]}${m[3]}`) / 1000);
    return new RestTimestamp(seconds, Number((m[2] ?? '').padEnd(9, '0')));
  }

  toDate(): Date {
    return new Date(this._seconds * 1000 + Math.round(this._nanoseconds / 1e6));
  }
}

export function decodeValue(v: RestValue): unknown {
  if ('nullValue' in v) return null;
  if (v.booleanValue !== undefined) return v.booleanValue;
  if (v.integerValue !== undefined) return Number(v.integerValue);
  if (v.doubleValue !== undefined) return Number(v.doubleValue); // "NaN", "Infinity" arrive as strings
  if (v.timestampValue !== undefined) return RestTimestamp.parse(v.timestampValue);
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.bytesValue !== undefined) return Buffer.from(v.bytesValue, 'base64');
  if (v.referenceValue !== undefined) return v.referenceValue.replace(/^projects\/[^/]+\/databases\/[^/]+\/documents\//, '');
  if (v.geoPointValue !== undefined) return { latitude: v.geoPointValue.latitude ?? 0, longitude: v.geoPointValue.longitude ?? 0 };
  if (v.arrayValue !== undefined) return (v.arrayValue.values ?? []).map(decodeValue);
  if (v.mapValue !== undefined) return decodeFields(v.mapValue.fields);
  throw new Error(`cannot decode a Firestore value: ${JSON.stringify(v)}`);
}
