import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';

/** One line of the bench table: a measured figure beside its baseline and its target. */
export interface Figure {
  id: string;
  name: string;
  measured: number;
  unit: string;
  baseline: { value: number; what: string };
  /** e.g. ">= 0.95 x baseline", "<= 2 s" */
  target: string;
  pass: boolean;
  /** how it was measured, in a few words */
  note?: string;
  details?: Record<string, unknown>;
}

export function formatTable(figures: Figure[]): string {
  const rows = [
    ['figure', 'measured', 'baseline', 'target', 'result'],
    ...figures.map((f) => [f.name, `${fmt(f.measured)} ${f.unit}`, `${fmt(f.baseline.value)} (${f.baseline.what})`, f.target, f.pass ? 'PASS' : 'FAIL']),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

export function machine(): Record<string, unknown> {
  return { cpu: cpus()[0]?.model ?? 'unknown', cpus: cpus().length, memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10, node: process.version, platform: `${process.platform} ${process.arch}` };
}

/** Writes .dropship/bench/<name>-latest.json and a timestamped copy; returns both paths. */
export function writeRun(name: string, run: Record<string, unknown>): string[] {
  const dir = resolve('.dropship/bench');
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const body = JSON.stringify(run, null, 2) + '\n';
  const latest = join(dir, name === 'bench' ? 'latest.json' : `${name}-latest.json`);
  const stamped = join(dir, `${name}-${stamp}.json`);
  writeFileSync(latest, body);
  writeFileSync(stamped, body);
  return [latest, stamped];
}
