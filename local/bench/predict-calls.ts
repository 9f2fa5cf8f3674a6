import { helpers, v1 } from '@google-cloud/aiplatform';
import { vertexClientOptions } from '#shared/adapters/vertex-client-options';
import { instanceRequestBytes, REQUEST_OVERHEAD_BYTES } from '#shared/labeling/core/pack-instances';
import { encodeDigit, heldOutDigits } from '#local/model-build/mnist-digits';
import type { BenchStack } from './harness/bench-stack';
import type { Figure } from './report';

/**
 * Predict calls and request bytes per image for a folder of held-out digits dropped into the
 * images bucket (every image its own event and its own prediction request), against the
 * baseline of one call per image with the file sent as is; the labels must be identical.
 */
export async function predictCallsFigure(stack: BenchStack, opts: { model: string; digits: number; say: (line: string) => void }): Promise<Figure[]> {
  const all = heldOutDigits();
  const step = Math.max(1, Math.floor(all.length / opts.digits));
  const picked = all.filter((_, i) => i % step === 0).slice(0, opts.digits);
  const files = await Promise.all(picked.map(async (d, i) => ({ name: `digit-${String(i).padStart(4, '0')}-${d.label}.jpg`, bytes: await encodeDigit(d.pixels, 'jpeg') })));
  const endpoint = String((await stack.db.doc(`models/${opts.model}`).get()).get('endpoint') ?? '');
  if (!endpoint) throw new Error(`models/${opts.model} has no endpoint`);

  opts.say(`one predict call per digit, sent as is (${files.length} digits)...`);
  const client = new v1.PredictionServiceClient(vertexClientOptions({ VERTEX_LOCATION: 'us-central1', VERTEX_API_ENDPOINT: stack.vertex.endpoint }));
  const direct = new Map<string, string>();
  let directBytes = 0;
  try {
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < files.length) {
          const f = files[next++]!;
          directBytes += REQUEST_OVERHEAD_BYTES + instanceRequestBytes(f.bytes.length);
          const [res] = await client.predict({ endpoint, instances: [helpers.toValue({ string_input: { b64: f.bytes.toString('base64') } })!] });
          direct.set(f.name, String((helpers.fromValue(res.predictions![0] as never) as { label: string }).label));
        }
      }),
    );
  } finally {
    await client.close();
  }

  const job = `digits-${Date.now()}`;
  opts.say(`dropping the same ${files.length} digits into gs://${stack.buckets.images}/${job}/ ...`);
  await stack.upload(stack.buckets.images, `${job}/_job.json`, Buffer.from(JSON.stringify({ model: opts.model })));
  const before = (await stack.worker.stats()).predictStats;
  await stack.uploadAll(
    stack.buckets.images,
    files.map((f) => ({ name: `${job}/${f.name}`, bytes: f.bytes })),
  );
  const done = await stack.waitFor(async () => (await stack.resultCount(job)) >= files.length, 300_000, 250);
  const after = (await stack.worker.stats()).predictStats;
  const results = await stack.results(job);
  if (!done) opts.say(`only ${results.length} of ${files.length} results after 300 s`);
  const calls = after.calls - before.calls;
  const bytes = after.requestBytes - before.requestBytes;
  let differ = 0;
  for (const f of files) {
    const r = results.find((x) => String(x.imageUri).endsWith(`/${job}/${f.name}`));
    if (r?.status !== 'OK' || r.label !== direct.get(f.name)) differ++;
  }
  const n = files.length;
  const fewer = calls > 0 ? n / calls : 0;
  const identical = differ === 0;
  return [
    {
      id: 'predict-calls',
      name: 'predict calls per image, digits folder',
      measured: calls / n,
      unit: 'calls',
      baseline: { value: 1, what: 'one image per call' },
      target: '>= 8x fewer, same labels',
      pass: fewer >= 8 && identical,
      note: `${fewer.toFixed(1)}x fewer; ${n - differ}/${n} labels identical to the one-per-call baseline`,
      details: { images: n, calls, failedCalls: after.failedCalls - before.failedCalls, fewerBy: fewer, labelsDiffering: differ, job },
    },
    {
      id: 'request-bytes',
      name: 'predict request bytes per image, digits folder',
      measured: bytes / n,
      unit: 'B',
      baseline: { value: directBytes / n, what: 'B, one image per call as is' },
      target: '<= baseline',
      pass: bytes / n <= directBytes / n,
      note: 'JSON request size as Vertex AI counts it (base64 instances plus envelope)',
      details: { pipelineBytes: bytes, baselineBytes: directBytes },
    },
  ];
}
