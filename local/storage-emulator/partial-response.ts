import { badRequest } from './gcs-error';

/**
 * Google APIs' partial responses, the `fields` query parameter
 * (cloud.google.com/storage/docs/json_api#partial-response): a comma-separated list of field
 * paths, `a/b` for a field inside a field, `a(b,c)` for several inside one, `*` for every
 * field; arrays are filtered element by element. gcloud asks for them on every listing (e.g.
 * `prefixes,items/name,items/size,items/metadata/goog-reserved-file-mtime,nextPageToken`), and
 * the Node client's `getFiles({ fields })` returns the filtered items as they come.
 */
export type FieldMask = Map<string, FieldMask | 'all'>;

export function parseFields(spec: string): FieldMask {
  let at = 0;
  const fail = (why: string) => badRequest(`Invalid field selection ${JSON.stringify(spec)}: ${why}`);

  const list = (closing: boolean): FieldMask => {
    const mask: FieldMask = new Map();
    for (;;) {
      const path: string[] = [];
      for (;;) {
        const m = /^\s*([A-Za-z0-9_\-.*]+)\s*/.exec(spec.slice(at));
        if (!m) throw fail(`a field name was expected at ${at}`);
        path.push(m[1]!);
        at += m[0].length;
        if (spec[at] !== '/') break;
        at++;
      }
      let leaf: FieldMask | 'all' = 'all';
      if (spec[at] === '(') {
        at++;
        leaf = list(true);
        if (spec[at] !== ')') throw fail(`')' was expected at ${at}`);
        at++;
        while (spec[at] === ' ') at++;
      }
      let node: FieldMask | 'all' = leaf;
      for (let i = path.length - 1; i >= 1; i--) node = new Map([[path[i]!, node]]);
      merge(mask, path[0]!, node);
      if (spec[at] === ',') {
        at++;
        continue;
      }
      if (at === spec.length || (closing && spec[at] === ')')) return mask;
      throw fail(`unexpected ${JSON.stringify(spec[at])} at ${at}`);
    }
  };

  const mask = list(false);
  if (at !== spec.length) throw fail(`unexpected ${JSON.stringify(spec[at])} at ${at}`);
  return mask;
}

function merge(mask: FieldMask, key: string, node: FieldMask | 'all'): void {
  const had = mask.get(key);
  if (had === undefined) mask.set(key, node);
  else if (had === 'all' || node === 'all') mask.set(key, 'all');
  else for (const [k, v] of node) merge(had, k, v);
}

/** The parts of a JSON value that a mask selects. */
export function applyFields(value: unknown, mask: FieldMask): unknown {
  if (Array.isArray(value)) return value.map((v) => applyFields(v, mask));
  if (!value || typeof value !== 'object') return value;
  const source = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  const wildcard = mask.get('*');
  for (const key of Object.keys(source)) {
    const sub = mask.get(key) ?? wildcard;
    if (sub === undefined) continue;
    if (sub === 'all') {
      out[key] = source[key];
      continue;
    }
    const picked = applyFields(source[key], sub);
    // a sub-selection that matched nothing inside an object leaves the field out
    if (picked && typeof picked === 'object' && !Array.isArray(picked) && Object.keys(picked).length === 0) continue;
    out[key] = picked;
  }
  return out;
}
