import { badRequest } from './gcs-error';

export interface ListQuery {
  prefix?: string;
  delimiter?: string;
  pageToken?: string;
  maxResults?: number;
  startOffset?: string;
  endOffset?: string;
  includeTrailingDelimiter?: boolean;
}

export interface ListPage {
  names: string[];
  prefixes: string[];
  nextPageToken?: string;
}

/**
 * One page of an objects.list over the sorted live names, as Cloud Storage pages it: items and
 * prefixes both count toward maxResults, a prefix is returned once across pages, and the page
 * token is opaque (here: the last key returned, and whether it was a prefix).
 */
export function listObjects(sortedNames: readonly string[], q: ListQuery): ListPage {
  const prefix = q.prefix ?? '';
  const max = Math.max(1, Math.min(q.maxResults ?? 1000, 1000));
  const after = q.pageToken ? decodeToken(q.pageToken) : undefined;
  const names: string[] = [];
  const prefixes: string[] = [];
  let count = 0;
  let lastKey: { key: string; isPrefix: boolean } | undefined;
  for (const name of sortedNames) {
    if (!name.startsWith(prefix)) continue;
    if (q.startOffset !== undefined && name < q.startOffset) continue;
    if (q.endOffset !== undefined && name >= q.endOffset) continue;
    if (after && (name <= after.key || (after.isPrefix && name.startsWith(after.key)))) continue;
    let key = name;
    let isPrefix = false;
    if (q.delimiter) {
      const at = name.indexOf(q.delimiter, prefix.length);
      if (at >= 0) {
        key = name.slice(0, at + q.delimiter.length);
        isPrefix = true;
      }
    }
    if (isPrefix && lastKey?.isPrefix && lastKey.key === key) {
      // Several names under one prefix: the prefix is listed once; with
      // includeTrailingDelimiter an object named exactly like the prefix is an item too.
      continue;
    }
    if (count === max) {
      return { names, prefixes, nextPageToken: encodeToken(lastKey!) };
    }
    if (isPrefix) {
      prefixes.push(key);
      if (q.includeTrailingDelimiter && name === key) names.push(name);
    } else {
      names.push(name);
    }
    lastKey = { key, isPrefix };
    count++;
  }
  return { names, prefixes };
}

function encodeToken(t: { key: string; isPrefix: boolean }): string {
  return Buffer.from(JSON.stringify([t.key, t.isPrefix])).toString('base64url');
}

function decodeToken(token: string): { key: string; isPrefix: boolean } {
  try {
    const [key, isPrefix] = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof key === 'string' && typeof isPrefix === 'boolean') return { key, isPrefix };
  } catch {
    // fall through
  }
  throw badRequest(`Invalid page token: ${token}`);
}
