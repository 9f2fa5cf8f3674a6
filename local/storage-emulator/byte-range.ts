/**
 * Parses a single HTTP Range header against an object size. Returns undefined for "send it
 * all" (no header, or a form Cloud Storage ignores), 'unsatisfiable' for a 416.
 */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return size === 0 && start === 0 ? undefined : 'unsatisfiable';
  return { start, end };
}

/**
 * A resumable upload's Content-Range: `bytes a-b/total`, `bytes a-b/*`, `bytes a-* /total`
 * (the client streams the rest), or `bytes * /total|*` (a status query).
 */
export type UploadRange = { kind: 'query'; total?: number } | { kind: 'data'; start: number; end?: number; total?: number };

export function parseUploadRange(header: string | undefined): UploadRange | undefined {
  if (!header) return undefined;
  const m = /^bytes (\*|(\d+)-(\d+|\*))\/(\d+|\*)$/.exec(header.trim());
  if (!m) return undefined;
  const total = m[4] === '*' ? undefined : Number(m[4]);
  if (m[1] === '*') return { kind: 'query', total };
  return { kind: 'data', start: Number(m[2]), end: m[3] === '*' ? undefined : Number(m[3]), total };
}
