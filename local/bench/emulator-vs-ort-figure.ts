import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Figure } from './report';

interface EmulatorVsOrtRun {
  threads: number;
  rows: Array<{ batch: number; bareImagesPerSecond: number; emulatorImagesPerSecond: number; emulatorPipelinedImagesPerSecond: number }>;
  summary: { batch1Ratio: number; bestBatch: { bare: { batch: number; imagesPerSecond: number }; emulator: { batch: number; imagesPerSecond: number }; ratio: number } };
}

/**
 * The emulator's predict path against a bare ONNX Runtime session, measured by the issue-2
 * bench (local/bench/emulator-vs-ort.ts) exactly as it measures it: run as its own process
 * (it runs on load), its JSON read back.
 */
export async function emulatorVsOrtFigure(say: (line: string) => void, args = ['--batches', '1,8', '--rounds', '3', '--images', '16']): Promise<Figure> {
  say(`emulator predict path vs bare ONNX Runtime (ViT-B/16): local/bench/emulator-vs-ort.ts ${args.join(' ')}`);
  const script = join(__dirname, 'emulator-vs-ort.ts');
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', script, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, LOG_LEVEL: 'ERROR' } });
    let text = '';
    child.stdout.on('data', (c: Buffer) => {
      text += c.toString('utf8');
      for (const line of c.toString('utf8').split('\n')) if (line.trim()) say(`  ${line}`);
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`emulator-vs-ort.ts exited with ${code}`))));
  });
  const file = /wrote (\S+\.json)/.exec(out)?.[1];
  if (!file) throw new Error('emulator-vs-ort.ts did not say where it wrote its figures');
  const run = JSON.parse(readFileSync(file, 'utf8')) as EmulatorVsOrtRun;
  const best = run.summary.bestBatch;
  return {
    id: 'emulator-vs-ort',
    name: 'emulator predict path vs bare ORT, ViT-B/16',
    measured: 100 * best.ratio,
    unit: '%',
    baseline: { value: 100, what: `%: bare session ${best.bare.imagesPerSecond.toFixed(2)} img/s at batch ${best.bare.batch}` },
    target: '>= 95%',
    pass: best.ratio >= 0.95,
    note: `median per-cycle ratio at the bare session's best batch; emulator best ${best.emulator.imagesPerSecond.toFixed(2)} img/s at batch ${best.emulator.batch}; batch 1: ${(run.summary.batch1Ratio * 100).toFixed(1)}%`,
    details: { source: file, threads: run.threads, ratio: best.ratio, batch1Ratio: run.summary.batch1Ratio, rows: run.rows },
  };
}
