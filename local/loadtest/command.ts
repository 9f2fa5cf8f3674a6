import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, extname } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import sharp from 'sharp';
import { runLoadTest, type LoadTestPlan } from './run-load-test';
import { vertexPredictTarget } from './vertex-predict-target';
import type { LoadTestSummary } from './latency-stats';

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif']);

/** `dropship loadtest`: a Locust-style load test of a Vertex AI endpoint. */
export async function main(argv: string[]): Promise<number> {
  const program = new Command('dropship loadtest')
    .description('Load-test a Vertex AI endpoint the way Locust does: users, spawn rate, think time, bounded run.')
    .requiredOption('--endpoint <name>', 'endpoint resource name: projects/P/locations/L/endpoints/ID')
    .option('--api-endpoint <host:port>', 'Vertex AI API address (the local emulator); default: the regional endpoint')
    .option('--location <region>', 'region of the endpoint', process.env.VERTEX_LOCATION ?? 'us-central1')
    .option('--users <n>', 'concurrent users', int, 10)
    .option('--spawn-rate <n>', 'users started per second', num, 3)
    .option('--duration <seconds>', 'stop after this many seconds', num)
    .option('--requests <n>', 'stop after this many requests', int)
    .option('--think-time <ms>', 'pause per user between requests', num, 0)
    .option('--instances <n>', 'images per request', int, 1)
    .option('--images <path>', 'an image file or a folder of images to send (default: one generated 224x224 JPEG)')
    .option('--json <file>', 'also write the final report as JSON to this file')
    .option('--quiet', 'no live progress')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  try {
    program.parse(argv, { from: 'user' });
  } catch (err) {
    const code = (err as { exitCode?: number }).exitCode;
    return code === 0 ? 0 : 2;
  }
  const o = program.opts();
  const plan: LoadTestPlan = {
    users: o.users,
    spawnRate: o.spawnRate,
    durationSeconds: o.duration,
    maxRequests: o.requests,
    thinkTimeMs: o.thinkTime,
    instancesPerRequest: o.instances,
  };
  if (plan.durationSeconds === undefined && plan.maxRequests === undefined) plan.durationSeconds = 60;
  const images = o.images ? loadImages(o.images) : [await syntheticJpeg()];
  const target = vertexPredictTarget({ endpoint: o.endpoint, location: o.location, apiEndpoint: o.apiEndpoint, images, instancesPerRequest: plan.instancesPerRequest });
  try {
    const run = await runLoadTest(plan, target.send, {
      onTick: o.quiet ? undefined : (live, active) => process.stderr.write(`\r${liveLine(live, active)}`),
    });
    if (!o.quiet) process.stderr.write('\n');
    process.stdout.write(formatReport(run.summary) + '\n');
    const json = JSON.stringify({ endpoint: o.endpoint, plan, ...run.summary }, null, 2);
    if (o.json) writeFileSync(o.json, json + '\n');
    process.stdout.write(json + '\n');
    return run.summary.failures === run.summary.requests && run.summary.requests > 0 ? 1 : 0;
  } finally {
    await target.close();
  }
}

function liveLine(s: LoadTestSummary, active: number): string {
  return `users ${active}  requests ${s.requests}  failures ${s.failures}  rps ${s.rps}  avg ${s.latencyMs.avg} ms  p95 ${s.latencyMs.p95} ms   `;
}

export function formatReport(s: LoadTestSummary): string {
  const rows = [
    ['requests', s.requests],
    ['failures', `${s.failures} ${JSON.stringify(s.failuresByCode)}`],
    ['elapsed s', s.elapsedSeconds],
    ['requests/s', s.rps],
    ['instances sent', s.instancesSent],
    ['latency ms avg', s.latencyMs.avg],
    ['p50 / p90 / p95 / p99', `${s.latencyMs.p50} / ${s.latencyMs.p90} / ${s.latencyMs.p95} / ${s.latencyMs.p99}`],
    ['min / max', `${s.latencyMs.min} / ${s.latencyMs.max}`],
  ];
  return rows.map(([k, v]) => `${String(k).padEnd(24)} ${v}`).join('\n');
}

function loadImages(path: string): Buffer[] {
  const files = statSync(path).isDirectory()
    ? readdirSync(path)
        .filter((f) => IMAGE_EXTENSIONS.has(extname(f).toLowerCase()))
        .sort()
        .map((f) => join(path, f))
    : [path];
  if (files.length === 0) throw new Error(`no images (${[...IMAGE_EXTENSIONS].join(' ')}) in ${path}`);
  return files.map((f) => readFileSync(f));
}

async function syntheticJpeg(): Promise<Buffer> {
  const { width, height } = { width: 224, height: 224 };
  const raw = Buffer.alloc(width * height * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 2654435761) >>> 24;
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 90 })
    .toBuffer();
}

function int(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('a whole number');
  return n;
}

function num(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InvalidArgumentError('a number');
  return n;
}
