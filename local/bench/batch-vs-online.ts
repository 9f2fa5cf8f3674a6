import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chooseRoute } from '#shared/labeling/cost/cost-model';
import { costInputs } from '#shared/labeling/cost/cost-inputs';
import { PRICE_TABLE } from '#shared/labeling/cost/price-table';
import { encodeDigit, heldOutDigits } from '#local/model-build/mnist-digits';
import type { Figure } from './report';
import { DROPSHIP, REPO_ROOT, localEnv, startDropshipUp } from './harness/dropship-up';

const DEMO_MODEL_DIR = join(REPO_ROOT, 'local', 'demo-model', 'mnist-vit');

/**
 * The same digits labeled twice on a real `dropship up` (child process): `dropship label --mode
 * batch --wait` (BatchPredictionJobs in the Vertex AI emulator, the batch follower importing
 * their output) and `dropship label --wait` online, each timed from the CLI's start (uploads
 * included) to its last result. Labels must be identical image by image. The cost figures
 * price each route at the rate it just showed (one replica / one emulator node), with the
 * dated price table: what `dropship cost` would say with these measured rates.
 */
export async function batchVsOnlineFigures(opts: { digits: number; dir: string; say: (l: string) => void }): Promise<Figure[]> {
  const { digits: n, dir, say } = opts;
  const images = join(dir, 'digits');
  mkdirSync(images, { recursive: true });
  const all = heldOutDigits();
  for (let i = 0; i < n; i++) {
    const d = all[i % all.length]!;
    // past the 1,500 held-out digits, the same digits again as 56 px JPEGs: distinct files
    const bytes = i < all.length ? await encodeDigit(d.pixels, 'png') : await encodeDigit(d.pixels, 'jpeg', { size: 56 });
    writeFileSync(join(images, `d${String(i).padStart(5, '0')}.${i < all.length ? 'png' : 'jpg'}`), bytes);
  }
  const data = join(dir, 'stack');
  const stack = await startDropshipUp(data, say, 'batch vs online');
  try {
    await must(['deploy', DEMO_MODEL_DIR, '--model', 'digits', '--version', 'v1', '--wait', '--data', data]);
    const timed = async (job: string, extra: string[]) => {
      const t = Date.now();
      await must(['label', images, '--job', job, '--model', 'digits', '--wait', '--timeout', '1800', '--data', data, ...extra]);
      const seconds = (Date.now() - t) / 1000;
      const results = JSON.parse((await must(['results', job, '--json', '--data', data])).stdout) as Array<{ imageUri: string; label: string; status: string }>;
      say(`batch vs online: ${job}: ${results.length} results in ${seconds.toFixed(1)} s = ${(n / seconds).toFixed(1)} img/s`);
      return { seconds, labels: new Map(results.map((r) => [r.imageUri.split('/').pop()!, r.label])), ok: results.filter((r) => r.status === 'OK').length };
    };
    const batch = await timed('bench-batch', ['--mode', 'batch']);
    const online = await timed('bench-online', []);
    const same = [...online.labels].filter(([f, l]) => batch.labels.get(f) === l).length;
    const cfg = {
      ONLINE_MACHINE_TYPE: 'n1-standard-4',
      ONLINE_REPLICAS: 1,
      ONLINE_IMAGES_PER_SECOND_PER_REPLICA: n / online.seconds,
      BATCH_MACHINE_TYPE: 'n1-standard-4',
      BATCH_MAX_NODES: 1,
      BATCH_IMAGES_PER_SECOND_PER_NODE: n / batch.seconds,
      BATCH_STARTUP_MINUTES: 15,
    };
    const choice = chooseRoute(PRICE_TABLE, costInputs(cfg, n, undefined));
    const note = `${n} digits, demo model, local stack (dropship up), uploads included; prices of ${PRICE_TABLE.date}`;
    return [
      {
        id: 'batch-vs-online-wall',
        name: `batch route wall time, ${n} digits (online: ${online.seconds.toFixed(1)} s)`,
        measured: Math.round(batch.seconds * 10) / 10,
        unit: 's',
        baseline: { value: Math.round(online.seconds * 10) / 10, what: 'the same digits online' },
        target: 'every image labeled',
        pass: batch.ok === n && online.ok === n,
        note,
        details: { batchSeconds: batch.seconds, onlineSeconds: online.seconds, batchOk: batch.ok, onlineOk: online.ok },
      },
      {
        id: 'batch-vs-online-labels',
        name: 'labels identical batch vs online, image by image',
        measured: same,
        unit: 'images',
        baseline: { value: n, what: 'digits labeled' },
        target: '= all',
        pass: same === n,
        note,
      },
      {
        id: 'batch-vs-online-cost',
        name: `cost estimate at these rates: batch (online $${choice.estimate.online.usd.toFixed(4)})`,
        measured: Math.round(choice.estimate.batch.usd * 10_000) / 10_000,
        unit: 'USD',
        baseline: { value: Math.round(choice.estimate.online.usd * 10_000) / 10_000, what: 'online, n1-standard-4, 1 replica' },
        target: `auto picks ${choice.route}`,
        pass: true,
        note: `${choice.reason}; batch includes 15 min of node start-up`,
        details: { estimate: choice.estimate, rates: { online: cfg.ONLINE_IMAGES_PER_SECOND_PER_REPLICA, batch: cfg.BATCH_IMAGES_PER_SECOND_PER_NODE } },
      },
    ];
  } finally {
    await stack.stop();
  }
}

async function must(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolveRun, reject) => {
    const child = spawn(DROPSHIP, args, { cwd: REPO_ROOT, env: localEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolveRun({ code, stdout, stderr }));
  });
  if (r.code !== 0) throw new Error(`dropship ${args.join(' ')} failed (${r.code}): ${r.stderr.slice(-2000)}`);
  return r;
}
