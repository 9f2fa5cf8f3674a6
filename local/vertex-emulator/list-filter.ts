import { invalidArgument } from './api-error';

/**
 * The part of Vertex AI's list filter syntax (AIP-160) people use on models and endpoints:
 * `display_name="x"`, `labels.team="vision"`, `labels.team:*`, joined with AND.
 */
export interface Filterable {
  displayName: string;
  labels: Record<string, string>;
}

type Term = { field: 'display_name'; value: string } | { field: 'label'; key: string; value?: string };

export function parseListFilter(filter: string | undefined): (item: Filterable) => boolean {
  const text = (filter ?? '').trim();
  if (!text) return () => true;
  const terms = text.split(/\s+AND\s+/).map(parseTerm);
  return (item) => terms.every((t) => (t.field === 'display_name' ? item.displayName === t.value : t.key in item.labels && (t.value === undefined || item.labels[t.key] === t.value)));
}

function parseTerm(raw: string): Term {
  const m = /^\s*(displayName|display_name|labels\.[A-Za-z0-9_-]+)\s*(=|:)\s*(?:"((?:[^"\\]|\\.)*)"|([^\s"]+))\s*$/.exec(raw);
  if (!m) {
    throw invalidArgument(`unsupported filter term "${raw}": this emulator understands display_name="..." and labels.KEY="..." (or labels.KEY:*), joined with AND.`);
  }
  const value = m[3] !== undefined ? m[3].replace(/\\(.)/g, '$1') : m[4];
  if (m[1].startsWith('labels.')) {
    const key = m[1].slice('labels.'.length);
    return { field: 'label', key, ...(m[2] === ':' && value === '*' ? {} : { value }) };
  }
  return { field: 'display_name', value };
}

/** Page tokens are offsets: lists here are small and ordered by creation time. */
export function paginate<T>(items: T[], pageSize: number | undefined, pageToken: string | undefined): { page: T[]; nextPageToken: string } {
  const start = pageToken ? Number(pageToken) : 0;
  if (!Number.isInteger(start) || start < 0) throw invalidArgument(`invalid page token "${pageToken}".`);
  const size = pageSize && pageSize > 0 ? pageSize : 100;
  const page = items.slice(start, start + size);
  return { page, nextPageToken: start + size < items.length ? String(start + size) : '' };
}
