import { parseGsUri, type ObjectRef } from './gs-uri';
import { jobSpecSchema, type JobMode } from './job-spec';

export interface ManifestEntry {
  /** 1-based line number in the manifest */
  line: number;
  ref: ObjectRef;
}

export interface BadManifestLine {
  line: number;
  text: string;
  reason: string;
}

export interface ParsedManifest {
  /** the model named by the first line ({"model": "..."}), if any */
  model?: string;
  /** the first line's "mode" and "deadline" ({"model": "...", "mode": "batch", "deadline": "2h"}) */
  mode?: JobMode;
  deadline?: string;
  entries: ManifestEntry[];
  bad: BadManifestLine[];
  /** lines that repeat an earlier URI: labeled once, counted once */
  duplicates: number;
}

const MAX_QUOTED = 200;

/**
 * Parses `_manifest.jsonl` (lines of {"uri": "gs://..."} or JSON strings) or `_manifest.txt`
 * (one gs:// URI per line). Either may start with {"model": "..."}. Blank lines are skipped;
 * every other line is either an image to label or a bad line the caller records as an ERROR.
 */
export function parseManifest(text: string, format: 'jsonl' | 'txt'): ParsedManifest {
  const out: ParsedManifest = { entries: [], bad: [], duplicates: 0 };
  const seen = new Set<string>();
  const lines = text.split(/\r?\n/);
  let first = true;
  lines.forEach((raw, i) => {
    const line = i + 1;
    const trimmed = raw.trim();
    if (trimmed === '') return;
    const wasFirst = first;
    first = false;
    const value = trimmed.startsWith('{') || trimmed.startsWith('"') ? tryJson(trimmed) : undefined;
    if (wasFirst && isOptionsLine(value)) {
      const opts = jobSpecSchema.safeParse(value);
      if (!opts.success) {
        out.bad.push({ line, text: quote(trimmed), reason: `the options line is invalid: ${opts.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` });
        return;
      }
      if (opts.data.model) out.model = opts.data.model;
      if (opts.data.mode) out.mode = opts.data.mode;
      if (opts.data.deadline) out.deadline = opts.data.deadline;
      return;
    }
    let candidate: string | undefined;
    if (format === 'jsonl' || value !== undefined) {
      if (typeof value === 'string') candidate = value;
      else if (value && typeof value === 'object' && typeof (value as { uri?: unknown }).uri === 'string') candidate = (value as { uri: string }).uri;
      else if (format === 'jsonl' && value === undefined && trimmed.startsWith('gs://')) candidate = trimmed;
    } else {
      candidate = trimmed;
    }
    const ref = candidate === undefined ? undefined : parseGsUri(candidate);
    if (!ref) {
      const reason =
        candidate === undefined
          ? format === 'jsonl'
            ? 'manifest line is neither {"uri": "gs://..."} nor a JSON string'
            : 'manifest line is not a gs:// URI'
          : `manifest line is not a gs://bucket/object URI: ${quote(candidate)}`;
      out.bad.push({ line, text: quote(trimmed), reason });
      return;
    }
    const key = `${ref.bucket}/${ref.name}#${ref.generation ?? ''}`;
    if (seen.has(key)) {
      out.duplicates++;
      return;
    }
    seen.add(key);
    out.entries.push({ line, ref });
  });
  return out;
}

/** A first line of options: {"model": ...} and/or {"mode": ...}, no "uri". */
function isOptionsLine(v: unknown): v is Record<string, unknown> {
  if (!v || typeof v !== 'object' || Array.isArray(v) || 'uri' in (v as object)) return false;
  const o = v as { model?: unknown; mode?: unknown };
  return typeof o.model === 'string' || typeof o.mode === 'string';
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function quote(s: string): string {
  return s.length > MAX_QUOTED ? `${s.slice(0, MAX_QUOTED)}...` : s;
}
