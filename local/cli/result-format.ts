/**
 * How `dropship results` writes results: CSV (RFC 4180 quoting, a fixed header), JSON Lines,
 * or a table for people. Pure, so every format is tested without a stack.
 */
import { RESULT_FIELDS, type ResultField } from '#shared/labeling/result';

export type ResultFormat = 'csv' | 'jsonl' | 'table';

/** The columns people read first, in this order; the rest of the result's fields follow. */
const LEADING_COLUMNS = [
  'imageUri',
  'status',
  'label',
  'confidence',
  'error',
  'reason',
  'generation',
  'modelName',
  'model',
  'modelVersionId',
  'deployedModelId',
  'latencyMs',
] as const satisfies readonly ResultField[];

/** Every field of the result document (#shared/labeling/result), so a new field gets a column. */
export const RESULT_COLUMNS: readonly ResultField[] = [...LEADING_COLUMNS, ...RESULT_FIELDS.filter((f) => !(LEADING_COLUMNS as readonly ResultField[]).includes(f))];

export type ResultRow = Partial<Record<ResultField, unknown>> & Record<string, unknown>;

export function csvHeader(): string {
  return RESULT_COLUMNS.join(',') + '\n';
}

export function csvLine(r: ResultRow): string {
  return RESULT_COLUMNS.map((c) => csvField(r[c])).join(',') + '\n';
}

function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function jsonLine(r: ResultRow): string {
  return JSON.stringify(r) + '\n';
}

export function tableLine(r: ResultRow): string {
  const what = r.status === 'OK' ? `${String(r.label)} (${typeof r.confidence === 'number' ? r.confidence.toFixed(3) : '?'})` : `ERROR ${String(r.error ?? r.reason ?? '')}`;
  return `${String(r.imageUri ?? r.id)}  ${what}\n`;
}

export function formatLine(format: ResultFormat, r: ResultRow): string {
  return format === 'csv' ? csvLine(r) : format === 'jsonl' ? jsonLine(r) : tableLine(r);
}
