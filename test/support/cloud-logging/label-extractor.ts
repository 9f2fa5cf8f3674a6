import type { LogEntry } from './log-entry';
import { lookup } from './logging-query';

/**
 * Log-based metric label extractors (cloud.google.com/logging/docs/logs-based-metrics/labels):
 * `EXTRACT(path)` takes the field's value (a number or boolean as its text), and
 * `REGEXP_EXTRACT(path, "regex")` takes the first match of the regex's one capture group.
 * A field that is absent, or a regex that does not match, leaves the label empty (undefined
 * here). Any other form is an error.
 */
export type LabelExtractor = { kind: 'extract'; path: string[] } | { kind: 'regexp'; path: string[]; regex: RegExp };

const PATH = '([A-Za-z_][A-Za-z0-9_]*(?:\\.[A-Za-z_][A-Za-z0-9_]*)*)';
const EXTRACT = new RegExp(`^EXTRACT\\(\\s*${PATH}\\s*\\)$`);
const REGEXP_EXTRACT = new RegExp(`^REGEXP_EXTRACT\\(\\s*${PATH}\\s*,\\s*"((?:[^"\\\\]|\\\\.)*)"\\s*\\)$`);

export function parseLabelExtractor(text: string): LabelExtractor {
  const t = text.trim();
  const e = EXTRACT.exec(t);
  if (e) return { kind: 'extract', path: e[1]!.split('.') };
  const r = REGEXP_EXTRACT.exec(t);
  if (r) {
    const source = r[2]!.replace(/\\(["\\])/g, '$1');
    const regex = new RegExp(source);
    const groups = new RegExp(`${source}|`).exec('')!.length - 1;
    if (groups !== 1) throw new Error(`REGEXP_EXTRACT needs exactly one capture group, ${text} has ${groups}`);
    return { kind: 'regexp', path: r[1]!.split('.'), regex };
  }
  throw new Error(`unsupported label extractor: ${text} (EXTRACT(field) and REGEXP_EXTRACT(field, "regex") are supported)`);
}

export function extractLabel(x: LabelExtractor, entry: LogEntry): string | undefined {
  const v = lookup(entry, x.path);
  if (v === undefined || v === null || typeof v === 'object') return undefined;
  const s = String(v);
  if (x.kind === 'extract') return s;
  return x.regex.exec(s)?.[1];
}
