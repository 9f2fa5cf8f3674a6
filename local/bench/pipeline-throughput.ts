import { access } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { helpers, PredictionServiceClient } from '@google-cloud/aiplatform';
import { buildVitB16, DEFAULT_VIT_B16_DIR } from '#local/model-build/build-vit-b16';
import { deployDirectly } from '#local/vertex-emulator/deploy-directly';
import { vertexClientOptions } from '#shared/adapters/vertex-client-options';
import { benchJpegs } from './bench-images';
import type { BenchStack } from './harness/bench-stack';
import type { Figure } from './report';

const MODEL = 'vit-b16';
/** batch sizes tried on the endpoint, and on how many images each */
const SEARCH_BATCHES = [1, 2, 4, 8, 16, 32];
const SEARCH_IMAGES = 64;
const LOCATION = 'us-central1';

/**
 * End-to-end labeling throughput (images dropped -> results written, through the real
 * functions) against the endpoint's own throughput on the same images, asked directly at its
 * best batch. ViT-B/16 (random weights) makes the endpoint the bottleneck, as in production;
 * the ratio is how much of the endpoint the pipeline manages to use.
 */
export async function pipelineThroughputFigures(stack: BenchStack, opts: { images: number; say: (line: string) => void }): Promise<Figure[]> {
  const modelDir = resolve(DEFAULT_VIT_B16_DIR);
  try {
    await access(join(modelDir, 'model.onnx'));
  } catch {
    opts.say(`building ViT-B/16 with random weights in ${modelDir} ...`);
    await buildVitB16(modelDir);
  }
  const clientOpts = vertexClientOptions({ VERTEX_LOCATION: LOCATION, VERTEX_API_ENDPOINT: stack.vertex.endpoint });
  const endpoint = await deployDirect(stack, modelDir, clientOpts);
  const jpegs = await benchJpegs(opts.images);

  opts.say(`the endpoint's own throughput (direct predict calls, 2 in flight): its best batch on ${Math.min(SEARCH_IMAGES, jpegs.length)} images, then all ${jpegs.length} at that batch...`);
  const predictions = new PredictionServiceClient(clientOpts);
  const instances = jpegs.map((j) => helpers.toValue({ string_input: { b64: j.toString('base64') } })!);
  const direct: Record<string, number> = {};
  let bestBatch = 0;
  let bestRate = 0;
  const call = (from: number, to: number) => predictions.predict({ endpoint, instances: instances.slice(from, to) });
  try {
    await predictions.predict({ endpoint, instances: instances.slice(0, 2) }); // warm-up: the model is loaded
    stack.deprioritizeAllButModels();
    for (const batch of SEARCH_BATCHES) {
      direct[batch] = await imagesPerSecond(Math.min(SEARCH_IMAGES, instances.length), batch, 2, call);
      opts.say(`  batch ${batch}: ${direct[batch]!.toFixed(2)} img/s`);
    }
    bestBatch = Number(Object.entries(direct).reduce((a, b) => (b[1] > a[1] ? b : a))[0]);
    bestRate = await imagesPerSecond(instances.length, bestBatch, 2, call);
    opts.say(`  all ${instances.length} images at batch ${bestBatch}: ${bestRate.toFixed(2)} img/s`);
  } finally {
    await predictions.close();
  }

  // What an operator does with that figure: deploy.json's maxInstancesPerCall, recorded on the
  // deployed version as the deployment side records it, caps the workers' calls to this endpoint.
  await stack.db.doc(`models/${MODEL}/versions/v1`).set({ model: MODEL, version: 'v1', state: 'DEPLOYED', spec: { maxInstancesPerCall: bestBatch } }, { merge: true });

  // The endpoint was warmed up before its figure; the functions get the same: a two-image job
  // first, so the figure does not carry their cold start (the first invocation loads clients).
  const warm = `vit-warm-${Date.now()}`;
  await stack.upload(stack.buckets.images, `${warm}/_job.json`, Buffer.from(JSON.stringify({ model: MODEL })));
  await stack.uploadAll(
    stack.buckets.images,
    jpegs.slice(0, 2).map((bytes, i) => ({ name: `${warm}/img-${i}.jpg`, bytes })),
  );
  if (!(await stack.waitFor(async () => (await stack.resultCount(warm)) >= 2, 120_000, 100))) throw new Error(`the warm-up job ${warm} got no results in 120 s`);

  const job = `vit-${Date.now()}`;
  opts.say(`dropping the same ${jpegs.length} images into gs://${stack.buckets.images}/${job}/ ...`);
  await stack.upload(stack.buckets.images, `${job}/_job.json`, Buffer.from(JSON.stringify({ model: MODEL })));
  const t0 = Date.now();
  await stack.uploadAll(
    stack.buckets.images,
    jpegs.map((bytes, i) => ({ name: `${job}/img-${String(i).padStart(4, '0')}.jpg`, bytes })),
  );
  const done = await stack.waitFor(async () => (await stack.resultCount(job)) >= jpegs.length, Math.max(120_000, (jpegs.length / bestRate) * 5000), 100);
  const seconds = (Date.now() - t0) / 1000;
  const results = await stack.results(job);
  const ok = results.filter((r) => r.status === 'OK').length;
  if (!done) opts.say(`only ${results.length} of ${jpegs.length} results after ${seconds.toFixed(0)} s`);
  const rate = results.length === jpegs.length ? jpegs.length / seconds : 0;
  // When each tenth of the results was written (their server timestamps): separates the
  // pipeline's start-up latency (first results) from its steady rate (the middle 80%).
  const written = results
    .map((r) => (r.createdAt as { toMillis?: () => number } | undefined)?.toMillis?.())
    .filter((t): t is number => typeof t === 'number')
    .sort((a, b) => a - b);
  const tenths = written.length === jpegs.length ? Array.from({ length: 10 }, (_, i) => (written[Math.ceil(((i + 1) * written.length) / 10) - 1]! - t0) / 1000) : [];
  const steadyRate = tenths.length === 10 ? (0.8 * jpegs.length) / (tenths[8]! - tenths[0]!) : 0;
  opts.say(`  pipeline: ${rate.toFixed(2)} img/s end to end (${ok} OK of ${results.length}); first 10% after ${tenths[0]?.toFixed(1)} s, then ${steadyRate.toFixed(2)} img/s from 10% to 90%`);
  return [
    {
      id: 'labeling-efficiency',
      name: 'labeling pipeline, ViT-B/16',
      measured: rate,
      unit: 'img/s',
      baseline: { value: bestRate, what: `img/s, endpoint alone at batch ${bestBatch}` },
      target: '>= 90% of baseline',
      pass: rate >= 0.9 * bestRate && ok === jpegs.length,
      note: `workers capped at the endpoint's best batch (deploy.json maxInstancesPerCall ${bestBatch}); ${((100 * rate) / bestRate).toFixed(1)}% of the endpoint end to end (${jpegs.length} images dropped -> results written); steady rate from 10% to 90% of results ${steadyRate.toFixed(2)} img/s = ${((100 * steadyRate) / bestRate).toFixed(1)}%; first 10% after ${tenths[0]?.toFixed(1)} s`,
      details: {
        images: jpegs.length,
        seconds,
        ok,
        results: results.length,
        directByBatch: direct,
        efficiency: rate / bestRate,
        job,
        tenthsSeconds: tenths,
        steadyRate,
        steadyEfficiency: steadyRate / bestRate,
      },
    },
  ];
}

/** Deploys the model folder on the emulator with the official clients and records the endpoint as the deployment side does. */
async function deployDirect(stack: BenchStack, modelDir: string, clientOpts: ReturnType<typeof vertexClientOptions>): Promise<string> {
  const parent = `projects/${stack.project}/locations/${LOCATION}`;
  const { endpoint, model } = await deployDirectly(clientOpts, { parent, modelId: MODEL, displayName: MODEL, artifactUri: modelDir, machineType: 'n1-standard-8' });
  await stack.db.doc(`models/${MODEL}`).set({ endpoint, vertexModel: model }, { merge: true });
  return endpoint;
}

async function imagesPerSecond(images: number, batch: number, inFlight: number, call: (from: number, to: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < images) {
        const from = next;
        next = Math.min(images, next + batch);
        await call(from, next);
      }
    }),
  );
  return images / (Number(process.hrtime.bigint() - t0) / 1e9);
}
