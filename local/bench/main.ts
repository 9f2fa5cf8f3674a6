/**
 * `npm run bench`: one run on the local stack, each figure measured beside its baseline in
 * the same run, printed as one table and written to .dropship/bench/latest.json (plus a
 * timestamped copy). See docs/benchmarks.md.
 *
 *   node --conditions=source --import tsx local/bench/main.ts [--only deploy,calls,labeling,ort] [--vit-images 128] [--endpoint-threads N] [--digits 300]
 *   npm run bench -- --only folder-copy [--folder-images 10000] [--folder-warm-up 2000] (not in the default run: about 4 min, a stack of its own)
 *   npm run bench -- --only big-job [--images 10000]   (not in the default run: a manifest job online then batch, a stack of its own)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { stopOnSignal } from '#local/bench/harness/stop-on-signal';
import { BenchStack } from './harness/bench-stack';
import { procStatusKb, sampleRss } from './harness/function-child';
import { dropModel } from './drop-model';
import { emulatorVsOrtFigure } from './emulator-vs-ort-figure';
import { batchVsOnlineFigures } from './batch-vs-online';
import { bigJobFigures } from './big-job';
import { folderCopyFigures } from './folder-copy';
import { predictCallsFigure } from './predict-calls';
import { pipelineThroughputFigures } from './pipeline-throughput';
import { formatTable, machine, writeRun, type Figure } from './report';

const PARTS = ['ort', 'deploy', 'calls', 'labeling', 'batch', 'folder-copy', 'big-job'] as const;
type Part = (typeof PARTS)[number];
const DEFAULT_PARTS: Part[] = ['ort', 'deploy', 'calls', 'labeling', 'batch'];
const DEMO_MODEL_DIR = resolve(__dirname, '..', 'demo-model', 'mnist-vit');
/** docs/deployment.md: measured before this bench, emulator operations taking 0.5 s */
const DEPLOY_BASELINE_S = 7.0;
const LRO_DELAY_MS = 500;
/** TOPOLOGY's memory for predict-worker: 1Gi */
const WORKER_MEMORY_MIB = 1024;

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      only: { type: 'string' },
      'vit-images': { type: 'string', default: '128' },
      digits: { type: 'string', default: '300' },
      'folder-images': { type: 'string', default: '10000' },
      'folder-warm-up': { type: 'string', default: '2000' },
      'batch-digits': { type: 'string', default: '2000' },
      images: { type: 'string', default: '10000' },
      'keep-data': { type: 'boolean', default: false },
      // On Google Cloud the endpoint has machines of its own; here it shares two cores with
      // the emulators and functions. By default it gets all cores but one, both when asked
      // directly (the baseline) and behind the pipeline, so the pipeline's own work runs
      // beside the model rather than inside its time.
      'endpoint-threads': { type: 'string', default: String(Math.max(1, availableParallelism() - 1)) },
    },
  });
  const only = new Set((values.only ?? DEFAULT_PARTS.join(',')).split(',').map((s) => s.trim()) as Part[]);
  for (const p of only) if (!PARTS.includes(p)) throw new Error(`--only takes ${PARTS.join(',')}, got ${p}`);
  const say = (line: string) => process.stderr.write(`[bench] ${line}\n`);
  const started = Date.now();
  const figures: Figure[] = [];

  // Alone on the machine first: it measures raw compute.
  if (only.has('ort')) figures.push(await emulatorVsOrtFigure(say));

  if (only.has('deploy') || only.has('calls') || only.has('labeling')) {
    const dataDir = mkdtempSync(join(tmpdir(), 'dropship-bench-'));
    const stack = new BenchStack({ dataDir, lroDelayMs: LRO_DELAY_MS, tickMs: 1000, endpointThreads: Number(values['endpoint-threads']), say });
    stopOnSignal(() => stack.stop());
    try {
      await stack.start();
      say('dropping the demo model into the models bucket...');
      const cold = await dropModel(stack, DEMO_MODEL_DIR, 'mnist-vit', 'v1');
      // The same again with the function warm: a second model, so it creates its endpoint too.
      const drop = await dropModel(stack, DEMO_MODEL_DIR, 'mnist-vit-warm', 'v1');
      say(`model drop -> DeployModel issued: ${cold.seconds.toFixed(2)} s on the first drop (functions cold), ${drop.seconds.toFixed(2)} s warm`);
      if (only.has('deploy')) {
        figures.push({
          id: 'deploy-latency',
          name: 'model drop -> DeployModel issued',
          measured: drop.seconds,
          unit: 's',
          baseline: { value: DEPLOY_BASELINE_S, what: 's before this work' },
          target: '<= 2 s',
          pass: drop.seconds <= 2,
          note: `a model's first version (creates its endpoint), function warm; first drop on a fresh stack: ${cold.seconds.toFixed(2)} s; emulator operations take ${LRO_DELAY_MS} ms`,
          details: { warm: drop, cold },
        });
      }
      const rss = sampleRss(() => procStatusKb(stack.worker.pid, 'VmRSS'));
      const idleRss = procStatusKb(stack.worker.pid, 'VmRSS') ?? 0;
      if (only.has('calls')) figures.push(...(await predictCallsFigure(stack, { model: 'mnist-vit', digits: Number(values.digits), say })));
      if (only.has('labeling')) figures.push(...(await pipelineThroughputFigures(stack, { images: Number(values['vit-images']), say })));
      const peak = rss.stop();
      if (only.has('calls') || only.has('labeling')) {
        const mib = peak / 2 ** 20;
        figures.push({
          id: 'worker-peak-rss',
          name: 'predict worker peak RSS while labeling',
          measured: mib,
          unit: 'MiB',
          baseline: { value: WORKER_MEMORY_MIB, what: 'MiB, the function memory (TOPOLOGY)' },
          target: '< baseline',
          pass: mib < WORKER_MEMORY_MIB,
          note: `own process, sampled every 100 ms from /proc; ${(idleRss / 2 ** 20).toFixed(0)} MiB idle (includes the tsx loader)`,
          details: { peakBytes: peak, idleBytes: idleRss },
        });
      }
    } finally {
      await stack.stop();
      if (!values['keep-data']) rmSync(dataDir, { recursive: true, force: true });
      else say(`stack data and logs kept in ${dataDir}`);
    }
  }

  // Batch vs online on the real `dropship up` (a child process), alone like folder-copy.
  if (only.has('batch')) {
    const dir = mkdtempSync(join(tmpdir(), 'dropship-bench-batch-'));
    try {
      figures.push(...(await batchVsOnlineFigures({ digits: Number(values['batch-digits']), dir, say })));
    } finally {
      if (!values['keep-data']) rmSync(dir, { recursive: true, force: true });
    }
  }

  // The real `dropship up` in a child process, alone: the other parts' stack is stopped by now.
  if (only.has('folder-copy')) {
    const dir = mkdtempSync(join(tmpdir(), 'dropship-bench-folder-'));
    try {
      figures.push(...(await folderCopyFigures({ images: count(values['folder-images'], '--folder-images', 1), warmUp: count(values['folder-warm-up'], '--folder-warm-up', 0), dir, say })));
    } finally {
      if (!values['keep-data']) rmSync(dir, { recursive: true, force: true });
      else say(`folder-copy data and logs kept in ${dir}`);
    }
  }

  // A manifest job of --images images, online then batch, on a `dropship up` of its own.
  if (only.has('big-job')) {
    const dir = mkdtempSync(join(tmpdir(), 'dropship-bench-big-'));
    try {
      figures.push(...(await bigJobFigures({ images: Number(values.images), dir, say })));
    } finally {
      if (!values['keep-data']) rmSync(dir, { recursive: true, force: true });
      else say(`big-job data and logs kept in ${dir}`);
    }
  }

  const table = formatTable(figures);
  process.stdout.write(`\n${table}\n`);
  const files = writeRun('bench', { benchmark: 'dropship', time: new Date().toISOString(), seconds: Math.round((Date.now() - started) / 1000), machine: machine(), parts: [...only], figures });
  process.stdout.write(`\nwrote ${files.join(' and ')}\n`);
  return figures.every((f) => f.pass) ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  },
);

/** a whole-number option, at least `min`, or a clear error instead of a NaN that times out later */
function count(value: string | boolean | undefined, flag: string, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`${flag} takes a whole number of at least ${min}, not ${String(value)}`);
  return n;
}
