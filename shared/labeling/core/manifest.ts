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

/** the first line's options ({"model": "...", "mode": "batch", "deadline": "2h"}) */
export interface ManifestOptions {
  model?: string;
  mode?: JobMode;
  deadline?: string;
}

export interface ParsedManifest extends ManifestOptions {
  entries: ManifestEntry[];
  bad: BadManifestLine[];
  /** lines that repeat an earlier URI: labeled once, counted once */
  duplicates: number;
}

/** What one line of a manifest is. */
export type ManifestLine = { kind: 'blank' } | { kind: 'options'; options: ManifestOptions } | { kind: 'entry'; entry: ManifestEntry } | { kind: 'bad'; bad: BadManifestLine } | { kind: 'duplicate' };

const MAX_QUOTED = 200;

/**
 * Reads `_manifest.jsonl` (lines of {"uri": "gs://..."} or JSON strings) or `_manifest.txt`
 * (one gs:// URI per line) one line at a time, so a manifest is never held whole. Either may
 * start with {"model": "..."}. Blank lines are skipped; every other line is an image to label,
 * a bad line the caller records as an ERROR, or a repeat of an earlier URI. The only state kept
 * is the set of URIs seen (the duplicate check), one short key per distinct image.
 */
export class ManifestLineParser {
  private lineNo = 0;
  private first = true;
  private readonly seen = new Set<string>();

  constructor(private readonly format: 'jsonl' | 'txt') {}

  /** the next line of the manifest, without its line ending */
  next(raw: string): ManifestLine {
    const line = ++this.lineNo;
    const trimmed = raw.trim();
    if (trimmed === '') return { kind: 'blank' };
    const wasFirst = this.first;
    this.first = false;
    const value = trimmed.startsWith('{') || trimmed.startsWith('"') ? tryJson(trimmed) : undefined;
    if (wasFirst && isOptionsLine(value)) {
      const opts = jobSpecSchema.safeParse(value);
      if (!opts.success) {
        return { kind: 'bad', bad: { line, text: quote(trimmed), reason: `the options line is invalid: ${opts.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` } };
      }
      const { model, mode, deadline } = opts.data;
      return { kind: 'options', options: { ...(model ? { model } : {}), ...(mode ? { mode } : {}), ...(deadline ? { deadline } : {}) } };
    }
    const candidate = this.candidateUri(trimmed, value);
    const ref = candidate === undefined ? undefined : parseGsUri(candidate);
    if (!ref) {
      const reason =
        candidate === undefined
          ? this.format === 'jsonl'
            ? 'manifest line is neither {"uri": "gs://..."} nor a JSON string'
            : 'manifest line is not a gs:// URI'
          : `manifest line is not a gs://bucket/object URI: ${quote(candidate)}`;
      return { kind: 'bad', bad: { line, text: quote(trimmed), reason } };
    }
    const key = `${ref.bucket}/${ref.name}#${ref.generation ?? ''}`;
    if (this.seen.has(key)) return { kind: 'duplicate' };
    this.seen.add(key);
    return { kind: 'entry', entry: { line, ref } };
  }

  private candidateUri(trimmed: string, value: unknown): string | undefined {
    if (this.format === 'txt' && value === undefined) return trimmed;
    if (typeof value === 'string') return value;
    if (value && typeof value === 'object' && typeof (value as { uri?: unknown }).uri === 'string') return (value as { uri: string }).uri;
    if (this.format === 'jsonl' && value === undefined && trimmed.startsWith('gs://')) return trimmed;
    return undefined;
  }
}

/** A whole manifest in memory (small manifests and tests; intake reads its manifest as a stream). */
export function parseManifest(text: string, format: 'jsonl' | 'txt'): ParsedManifest {
  const out: ParsedManifest = { entries: [], bad: [], duplicates: 0 };
  const parser = new ManifestLineParser(format);
  for (const raw of text.split(/\r?\n/)) {
    const l = parser.next(raw);
    if (l.kind === 'options') Object.assign(out, l.options);
    else if (l.kind === 'entry') out.entries.push(l.entry);
    else if (l.kind === 'bad') out.bad.push(l.bad);
    else if (l.kind === 'duplicate') out.duplicates++;
  }
  return out;
}

/** One unit of a manifest's intake: what a chunk's request (or batch instance file) carries, and its bad lines. */
export interface ManifestChunk {
  /** 0-based, in manifest order: the chunk's idempotency key within the manifest */
  index: number;
  entries: ManifestEntry[];
  bad: BadManifestLine[];
  /** lines in the chunk's span that repeat an earlier URI (skipped) */
  duplicates: number;
}

/** bad lines a chunk holds at most (a manifest of nothing but bad lines is still read in bounded pieces) */
const MAX_BAD_PER_CHUNK = 1000;

/**
 * Cuts a manifest's lines into chunks of `size` images (the last may have fewer; one with
 * MAX_BAD_PER_CHUNK bad lines is cut early), in order, with the bad lines among them. The cut depends only on the manifest, so every reading of it (the first and any
 * resumed one) numbers the same lines into the same chunks. Options come first, when present.
 */
export async function* manifestChunks(lines: AsyncIterable<string>, format: 'jsonl' | 'txt', size: number): AsyncGenerator<ManifestChunk | { options: ManifestOptions }> {
  const parser = new ManifestLineParser(format);
  let current: ManifestChunk = { index: 0, entries: [], bad: [], duplicates: 0 };
  for await (const raw of lines) {
    const l = parser.next(raw);
    if (l.kind === 'options') yield { options: l.options };
    else if (l.kind === 'entry') current.entries.push(l.entry);
    else if (l.kind === 'bad') current.bad.push(l.bad);
    else if (l.kind === 'duplicate') current.duplicates++;
    if (current.entries.length >= size || current.bad.length >= MAX_BAD_PER_CHUNK) {
      yield current;
      current = { index: current.index + 1, entries: [], bad: [], duplicates: 0 };
    }
  }
  if (current.entries.length + current.bad.length + current.duplicates > 0) yield current;
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
