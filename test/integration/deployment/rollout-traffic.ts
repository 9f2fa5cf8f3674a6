import { randomUUID } from 'node:crypto';
import { helpers, type PredictionServiceClient } from '@google-cloud/aiplatform';
import { FieldValue, type Firestore } from '@google-cloud/firestore';
import { encodeDigit, heldOutDigits } from '#local/model-build/mnist-digits';

/** A seeded generator (mulberry32), so the digits a run sends are the same every time. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FAILED_MODEL = /[Dd]eployed model (\S+) failed/;

/**
 * Live traffic for the canary analysis, standing in for the predict workers: one-image predict
 * calls through the endpoint (the split picks who answers), each recorded as a result in
 * jobs/{job}/results with the deployedModelId, latency, label and confidence a worker records.
 * A failed call is an ERROR result of the deployed model the error names (the emulator's
 * injected failures do; see docs/deployment.md for what Google Cloud gives).
 */
export async function sendTraffic(opts: {
  prediction: PredictionServiceClient;
  firestore: Firestore;
  endpoint: string;
  job: string;
  /** stop once this holds (checked after every write), or after `maxCalls` */
  until: () => Promise<boolean> | boolean;
  maxCalls: number;
  seed: number;
  concurrency?: number;
}): Promise<{ calls: number; byDeployedModel: Record<string, number> }> {
  const digits = heldOutDigits();
  const random = seeded(opts.seed);
  const byDeployedModel: Record<string, number> = {};
  const pending: Array<Record<string, unknown>> = [];
  let calls = 0;
  let done = false;
  const flush = async () => {
    const batch = opts.firestore.batch();
    for (const r of pending.splice(0)) batch.create(opts.firestore.doc(`jobs/${opts.job}/results/${randomUUID()}`), { ...r, createdAt: FieldValue.serverTimestamp() });
    await batch.commit();
  };
  const worker = async () => {
    while (!done && calls < opts.maxCalls) {
      calls++;
      const digit = digits[Math.floor(random() * digits.length)]!;
      const instance = helpers.toValue({ string_input: { b64: (await encodeDigit(digit.pixels, 'png')).toString('base64') } })!;
      const started = Date.now();
      let result: Record<string, unknown>;
      try {
        const [res] = await opts.prediction.predict({ endpoint: opts.endpoint, instances: [instance] });
        const p = helpers.fromValue(res.predictions![0] as never) as { label: string; confidence: number };
        result = { job: opts.job, status: 'OK', label: p.label, confidence: p.confidence, error: null, deployedModelId: res.deployedModelId, latencyMs: Date.now() - started };
      } catch (err) {
        const id = FAILED_MODEL.exec(String((err as Error).message))?.[1];
        if (!id) throw err;
        result = { job: opts.job, status: 'ERROR', label: null, confidence: null, error: String((err as Error).message), deployedModelId: id, latencyMs: null };
      }
      byDeployedModel[result.deployedModelId as string] = (byDeployedModel[result.deployedModelId as string] ?? 0) + 1;
      pending.push(result);
      if (pending.length >= 20) {
        await flush();
        if (await opts.until()) done = true;
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 3 }, worker));
  if (pending.length) await flush();
  return { calls, byDeployedModel };
}

/** The golden set as a `_golden/<label>/<n>.png` tree: `perDigit` held-out digits of each label. */
export async function goldenTree(perDigit: number): Promise<Array<[string, Buffer]>> {
  const digits = heldOutDigits();
  const out: Array<[string, Buffer]> = [];
  for (let label = 0; label < 10; label++) {
    // the last held-out samples of each digit, which the live traffic may also draw: a golden set is just labeled data
    const mine = digits.filter((d) => d.label === label).slice(-perDigit);
    for (const [i, d] of mine.entries()) out.push([`_golden/${label}/${i}.png`, await encodeDigit(d.pixels, 'png')]);
  }
  return out;
}
