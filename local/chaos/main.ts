/**
 * `npm run chaos`: the labeling pipeline under faults, on the local stack. 1,000 held-out
 * digits are dropped as one folder job with every Storage event and every prediction request
 * delivered twice, 10% of predict calls refused (429/503), the predict worker's process
 * SIGKILLed mid-batch and started again, and the Vertex AI emulator stopped and started again
 * on the same port and data. Reports lost, duplicated and ERROR results; exits 1 if any.
 *
 *   node --conditions=source --import tsx local/chaos/main.ts [--images 1000] [--timeout 300] [--keep-data]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { encodeDigit, heldOutDigits } from '#local/model-build/mnist-digits';
import { stopOnSignal } from '#local/bench/harness/stop-on-signal';
import { workerConfigSchema } from '#functions/predict-worker/config';
import { BenchStack } from '#local/bench/harness/bench-stack';
import { dropModel } from '#local/bench/drop-model';
import { machine, writeRun } from '#local/bench/report';

const MODEL = 'mnist-vit';
const DEMO_MODEL_DIR = resolve(__dirname, '..', 'demo-model', 'mnist-vit');
const PREDICT_ERROR_RATE = 0.1;
/** the worker's publish lease, as the worker reads it (its environment includes this one's) */
const PUBLISH_LEASE_MS = workerConfigSchema.shape.PUBLISH_LEASE_MS.parse(process.env.PUBLISH_LEASE_MS);

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      images: { type: 'string', default: '1000' },
      timeout: { type: 'string', default: '300' },
      'keep-data': { type: 'boolean', default: false },
    },
  });
  const total = Number(values.images);
  const timeoutMs = Number(values.timeout) * 1000;
  const say = (line: string) => process.stderr.write(`[chaos ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
  const started = Date.now();
  const dataDir = mkdtempSync(join(tmpdir(), 'dropship-chaos-'));
  const stack = new BenchStack({ dataDir, lroDelayMs: 200, tickMs: 1000, workerPushCopies: 2, say });
  stopOnSignal(() => stack.stop());
  const events: Array<{ at: number; what: string }> = [];
  const note = (what: string) => {
    events.push({ at: Date.now() - started, what });
    say(what);
  };
  let report: Record<string, unknown> = {};
  let ok = false;
  try {
    await stack.start();
    say('deploying the demo model through the models bucket...');
    await dropModel(stack, DEMO_MODEL_DIR, MODEL, 'v1');

    const held = heldOutDigits();
    const files = await Promise.all(
      Array.from({ length: total }, async (_, i) => {
        const d = held[i % held.length]!;
        return { name: `digit-${String(i).padStart(4, '0')}-${d.label}.jpg`, bytes: await encodeDigit(d.pixels, 'jpeg') };
      }),
    );
    const job = `chaos-${Date.now()}`;

    stack.storageEmulator.setDelivery({ duplicates: 2 });
    stack.vertex.setFaults({ predictErrorRate: PREDICT_ERROR_RATE });
    note(`faults on: every Storage event and prediction request delivered twice, ${PREDICT_ERROR_RATE * 100}% of predict calls refused`);
    await stack.upload(stack.buckets.images, `${job}/_job.json`, Buffer.from(JSON.stringify({ model: MODEL })));
    note(`dropping ${total} digits into gs://${stack.buckets.images}/${job}/`);
    const uploads = stack.uploadAll(
      stack.buckets.images,
      files.map((f) => ({ name: `${job}/${f.name}`, bytes: f.bytes })),
    );

    // One worker killed while it has predict calls in flight, then started again on its port.
    await stack.waitFor(async () => (await stack.resultCount(job)) >= total * 0.2, timeoutMs);
    const inFlight = (await stack.worker.stats()).predictStats;
    await stack.worker.kill();
    const killedAt = Date.now();
    note(`SIGKILLed the predict worker at ${await stack.resultCount(job)} results (${inFlight.calls} predict calls sent by it so far)`);
    await stack.worker.start();
    note('predict worker started again');

    // The Vertex AI emulator stopped for a second and started again on the same port and data.
    await stack.waitFor(async () => (await stack.resultCount(job)) >= total * 0.5, timeoutMs);
    note(`stopping the Vertex AI emulator at ${await stack.resultCount(job)} results`);
    await stack.restartVertex(1000);
    stack.vertex.setFaults({ predictErrorRate: PREDICT_ERROR_RATE });
    note('Vertex AI emulator started again (same port, same data), faults on again');

    await uploads;
    note('all images uploaded');
    const complete = await stack.waitFor(async () => (await stack.resultCount(job)) >= total, timeoutMs, 500);
    note(complete ? 'every image has a result; waiting for late deliveries' : `timed out with ${await stack.resultCount(job)} results`);
    // A result the killed worker created but never published is published by a redelivery
    // once its publish lease runs out: wait at least that long after the kill.
    await settle(stack, 5000, killedAt + PUBLISH_LEASE_MS + 5000);

    const results = await stack.results(job);
    const byName = new Map(results.map((r) => [String(r.imageUri).split('/').pop()!, r]));
    const lost = files.filter((f) => !byName.has(f.name)).map((f) => f.name);
    const errors = results.filter((r) => r.status !== 'OK').map((r) => ({ image: r.imageUri, reason: r.reason, error: r.error }));
    const messages = stack.messages.filter((m) => m.attributes.job === job && m.attributes.type === 'result');
    // A result published twice has two message ids; the tap seeing one message again (a
    // redelivery, which every Pub/Sub subscriber must expect) is counted apart.
    const perId = new Map<string, Set<string>>();
    for (const m of messages) perId.set(String(m.body.id), (perId.get(String(m.body.id)) ?? new Set()).add(m.messageId));
    const duplicatedMessages = [...perId.values()].reduce((n, ids) => n + Math.max(0, ids.size - 1), 0);
    const redeliveredToTap = messages.length - [...perId.values()].reduce((n, ids) => n + ids.size, 0);
    const unpublished = results.filter((r) => !perId.has(String(r.docId))).map((r) => r.imageUri);
    // Published, but their publisher never flagged them (killed in between): results-ledger did.
    const flaggedOnlyByLedger = results.filter((r) => r.published === true && r.publishedAt === undefined && r.ledgerSawAt !== undefined).length;
    const wrongLabel = files.filter((f) => {
      const r = byName.get(f.name);
      return r?.status === 'OK' && `${r.label}` !== f.name.split('-')[2]!.replace('.jpg', '');
    }).length;
    report = {
      images: total,
      results: results.length,
      lost: lost.length,
      duplicatedResults: results.length - byName.size,
      duplicatedMessages,
      redeliveredToTap,
      resultsWithoutMessage: unpublished.length,
      flaggedOnlyByLedger,
      error: errors.length,
      okLabelsDifferingFromDigit: wrongLabel,
      pushes: stack.proxy?.counts,
      seconds: Math.round((Date.now() - started) / 1000),
      events,
      samples: { lost: lost.slice(0, 10), errors: errors.slice(0, 10), unpublished: unpublished.slice(0, 10) },
    };
    ok = lost.length === 0 && duplicatedMessages === 0 && results.length === byName.size && unpublished.length === 0 && errors.length === 0;
  } finally {
    await stack.stop();
    if (values['keep-data']) say(`stack data and logs kept in ${dataDir}`);
    else rmSync(dataDir, { recursive: true, force: true });
  }

  const r = report as {
    images: number;
    results: number;
    lost: number;
    duplicatedMessages: number;
    redeliveredToTap: number;
    duplicatedResults: number;
    resultsWithoutMessage: number;
    flaggedOnlyByLedger: number;
    error: number;
    okLabelsDifferingFromDigit: number;
    seconds: number;
  };
  const rows = [
    ['images dropped', r.images, ''],
    ['results written', r.results, ''],
    ['lost (no result)', r.lost, 'target 0'],
    ['duplicated (results, or results published twice)', r.duplicatedMessages + r.duplicatedResults, 'target 0'],
    ['one message delivered to the tap again (Pub/Sub redelivery)', r.redeliveredToTap, ''],
    ['results never published', r.resultsWithoutMessage, 'target 0'],
    ['published, publisher killed before flagging (results-ledger did)', r.flaggedOnlyByLedger, ''],
    ['ERROR results', r.error, 'target 0'],
    ['OK labels != the digit (model accuracy, not a fault)', r.okLabelsDifferingFromDigit, ''],
    ['seconds', r.seconds, ''],
  ];
  const width = Math.max(...rows.map(([k]) => String(k).length));
  process.stdout.write(`\n${rows.map(([k, v, t]) => `${String(k).padEnd(width)} ${String(v).padStart(6)}  ${t}`).join('\n')}\n${ok ? 'PASS' : 'FAIL'}\n`);
  const files = writeRun('chaos', { benchmark: 'chaos', time: new Date().toISOString(), machine: machine(), pass: ok, ...report });
  process.stdout.write(`wrote ${files.join(' and ')}\n`);
  return ok ? 0 : 1;
}

/** Waits until no result message has arrived for `quietMs` (and not before `notBefore`), so late duplicates are counted. */
async function settle(stack: BenchStack, quietMs: number, notBefore: number): Promise<void> {
  await stack.storageEmulator.idle();
  let last = -1;
  while (last !== stack.messages.length || Date.now() < notBefore) {
    last = stack.messages.length;
    await new Promise((r) => setTimeout(r, quietMs));
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`chaos run failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  },
);
