import { GcsError, badRequest, conditionNotMet } from './gcs-error';

/** The JSON API's generation preconditions, as sent in the query string. */
export interface Preconditions {
  ifGenerationMatch?: string;
  ifGenerationNotMatch?: string;
  ifMetagenerationMatch?: string;
  ifMetagenerationNotMatch?: string;
}

const NAMES = ['ifGenerationMatch', 'ifGenerationNotMatch', 'ifMetagenerationMatch', 'ifMetagenerationNotMatch'] as const;

export function preconditionsFrom(query: URLSearchParams, prefix = ''): Preconditions {
  const out: Preconditions = {};
  for (const n of NAMES) {
    const key = prefix ? prefix + n.slice(2) : n; // ifSource + GenerationMatch
    const v = query.get(key);
    if (v === null) continue;
    if (!/^\d+$/.test(v)) throw badRequest(`Invalid argument for ${key}: ${v}`);
    out[n] = String(BigInt(v));
  }
  return out;
}

/**
 * Checks preconditions against the live object (undefined when there is none), as Cloud
 * Storage does: ifGenerationMatch=0 means "only if no live object exists"; a metageneration
 * condition on a missing object fails. A failed *NotMatch condition is 304 on reads and 412
 * on writes.
 */
export function checkPreconditions(p: Preconditions, live: { generation: string; metageneration: string } | undefined, kind: 'read' | 'write' = 'write'): void {
  const notMatchFailed = () => (kind === 'read' ? new GcsError(304, 'Not Modified', 'notModified') : conditionNotMet());
  if (p.ifGenerationMatch !== undefined) {
    const ok = p.ifGenerationMatch === '0' ? live === undefined : live?.generation === p.ifGenerationMatch;
    if (!ok) throw conditionNotMet();
  }
  if (p.ifGenerationNotMatch !== undefined) {
    const ok = p.ifGenerationNotMatch === '0' ? live !== undefined : live?.generation !== p.ifGenerationNotMatch;
    if (!ok) throw notMatchFailed();
  }
  if (p.ifMetagenerationMatch !== undefined && live?.metageneration !== p.ifMetagenerationMatch) throw conditionNotMet();
  if (p.ifMetagenerationNotMatch !== undefined && (live === undefined || live.metageneration === p.ifMetagenerationNotMatch)) {
    throw notMatchFailed();
  }
}
