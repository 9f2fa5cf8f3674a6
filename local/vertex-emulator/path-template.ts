/**
 * URL path templates of `google.api.http` rules, matched against incoming request paths (the
 * server side of HTTP/JSON transcoding; google-gax's transcoding.ts does the client side).
 * Grammar and decoding rules from google/api/http.proto:
 *
 *   Template = "/" Segments [ Verb ] ;   Segment  = "*" | "**" | LITERAL | Variable ;
 *   Variable = "{" FieldPath [ "=" Segments ] "}" ;   Verb = ":" LITERAL ;
 *
 * `*` matches one segment, `**` zero or more (only as the last segment); `{var}` is `{var=*}`.
 * A variable of one segment is percent-decoded whole; one of several segments is decoded
 * except `%2F`/`%2f`, which stay as they are.
 */
export interface PathTemplate {
  /** the template as written, e.g. /v1/{name=projects/star/locations/star}/models */
  readonly source: string;
  /** the custom verb after ':', e.g. "deployModel"; undefined when there is none */
  readonly verb: string | undefined;
  /** field paths bound by the template, in order, e.g. ["endpoint.name"] */
  readonly fields: string[];
  /** literal segments: more literals is a more specific template (tried first) */
  readonly literals: number;
  /** the bound variables of a matching path (without its verb), or undefined when it does not match */
  match(path: string, verb: string | undefined): Map<string, string> | undefined;
}

type Segment = { kind: 'literal'; text: string } | { kind: 'one' } | { kind: 'many' };

interface Part {
  segments: Segment[];
  /** set when these segments form a variable */
  field?: string;
}

export function parsePathTemplate(source: string): PathTemplate {
  if (!source.startsWith('/')) throw new Error(`path template ${source}: must start with "/"`);
  const { body, verb } = splitVerb(source.slice(1), source);
  const parts: Part[] = [];
  let i = 0;
  while (i < body.length) {
    if (body[i] === '{') {
      const close = body.indexOf('}', i);
      if (close < 0) throw new Error(`path template ${source}: unclosed "{"`);
      const inner = body.slice(i + 1, close);
      const eq = inner.indexOf('=');
      const field = (eq < 0 ? inner : inner.slice(0, eq)).trim();
      if (!/^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(field)) throw new Error(`path template ${source}: bad field path "${field}"`);
      parts.push({ field, segments: eq < 0 ? [{ kind: 'one' }] : parseSegments(inner.slice(eq + 1), source) });
      i = close + 1;
    } else {
      const next = body.indexOf('{', i);
      const end = next < 0 ? body.length : next;
      const text = body.slice(i, end);
      // Literal runs sit between variables, with the slashes that separate them.
      const trimmed = text.replace(/^\//, '').replace(/\/$/, '');
      if (trimmed) parts.push({ segments: parseSegments(trimmed, source) });
      i = end;
    }
  }
  const all = parts.flatMap((p) => p.segments);
  all.forEach((s, idx) => {
    if (s.kind === 'many' && idx !== all.length - 1) throw new Error(`path template ${source}: "**" must be the last segment`);
  });

  // One regex over the raw (still percent-encoded) path; each variable is one capture group.
  let re = '^';
  const fields: string[] = [];
  const multi: boolean[] = [];
  for (const p of parts) {
    let piece = '';
    p.segments.forEach((s, k) => {
      const lead = k === 0 ? '' : '/';
      if (s.kind === 'literal') piece += lead + escapeRegExp(s.text);
      else if (s.kind === 'one') piece += `${lead}[^/]+`;
      else piece += k === 0 ? '(?:[^/]+(?:/[^/]+)*)?' : '(?:/[^/]+)*';
    });
    if (p.field) {
      fields.push(p.field);
      multi.push(p.segments.length > 1 || p.segments.some((s) => s.kind === 'many'));
      re += `/(${piece})`;
    } else {
      re += `/${piece}`;
    }
  }
  const regex = new RegExp(`${re}$`);
  return {
    source,
    verb,
    fields,
    literals: all.filter((s) => s.kind === 'literal').length,
    match(path, requestVerb) {
      if (requestVerb !== verb) return undefined;
      const m = regex.exec(path);
      if (!m) return undefined;
      const out = new Map<string, string>();
      for (let k = 0; k < fields.length; k++) {
        const raw = m[k + 1] ?? '';
        const value = safely(() => (multi[k] ? decodeKeepingSlashes(raw) : decodeURIComponent(raw)));
        if (value === undefined) return undefined; // malformed percent-encoding: no match
        // The same traversal guard google-gax applies on the client side.
        if (value.split('/').some((seg) => seg === '.' || seg === '..')) return undefined;
        out.set(fields[k], value);
      }
      return out;
    },
  };
}

/** Splits a request path into the part templates match and its custom verb (after the last ':' of the last segment). */
export function splitRequestPath(path: string): { path: string; verb: string | undefined } {
  const slash = path.lastIndexOf('/');
  const colon = path.indexOf(':', slash + 1);
  if (colon < 0) return { path, verb: undefined };
  return { path: path.slice(0, colon), verb: safely(() => decodeURIComponent(path.slice(colon + 1))) ?? path.slice(colon + 1) };
}

function safely(decode: () => string): string | undefined {
  try {
    return decode();
  } catch {
    return undefined;
  }
}

function splitVerb(body: string, source: string): { body: string; verb: string | undefined } {
  // The verb follows the last '}' or '/', whichever comes last: a ':' inside {...} is not one.
  const tail = Math.max(body.lastIndexOf('}'), body.lastIndexOf('/'));
  const colon = body.indexOf(':', tail + 1);
  if (colon < 0) return { body, verb: undefined };
  const verb = body.slice(colon + 1);
  if (!verb) throw new Error(`path template ${source}: empty verb`);
  return { body: body.slice(0, colon), verb };
}

function parseSegments(text: string, source: string): Segment[] {
  return text.split('/').map((s): Segment => {
    if (s === '*') return { kind: 'one' };
    if (s === '**') return { kind: 'many' };
    if (!s || /[{}*=]/.test(s)) throw new Error(`path template ${source}: bad segment "${s}"`);
    return { kind: 'literal', text: s };
  });
}

function decodeKeepingSlashes(raw: string): string {
  return raw
    .split(/(%2[Ff])/)
    .map((piece) => (/^%2[Ff]$/.test(piece) ? piece : decodeURIComponent(piece)))
    .join('');
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
