import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Firestore } from '@google-cloud/firestore';
import { PubSub, type Subscription } from '@google-cloud/pubsub';
import { Storage } from '@google-cloud/storage';
import { sessionMembers } from '#local/emulators/process-group';
import { encodeDigit, heldOutDigits } from '#local/model-build/mnist-digits';
import { readLedger } from '#local/stack/process-ledger';
import { procStatusKb } from './harness/function-child';
import { firestoreOps, firestoreOpsPerImage } from '#local/stack/firestore-ops';
import { DROPSHIP, REPO_ROOT, localEnv, startDropshipUp } from './harness/dropship-up';
import type { Figure } from './report';

const DEMO_MODEL_DIR = join(REPO_ROOT, 'local', 'demo-model', 'mnist-vit');
const run = promisify(execFile);

/**
 * A job of N images (`--images`, default 10,000) on a real `dropship up`, online then batch:
 * the images are uploaded once under `_batch/big/images/` (which intake does not label one by
 * one), then one `_manifest.txt` per route names them all, and each job is timed from its
 * manifest's upload to jobs/{job} COMPLETED. Pub/Sub messages are counted on taps of the
 * requests and results topics; intake's peak memory is the VmHWM of the process serving
 * image-intake, reset before each job (/proc/PID/clear_refs), so each figure is its own job's peak.
 */
export async function bigJobFigures(opts: { images: number; dir: string; say: (l: string) => void }): Promise<Figure[]> {
  const { images: n, dir, say } = opts;
  const data = join(dir, 'stack');
  const up = await startDropshipUp(data, say, 'big job', { countFirestoreOps: true });
  const { stack } = up;
  process.env.FIRESTORE_EMULATOR_HOST = stack.firestoreEmulatorHost;
  process.env.PUBSUB_EMULATOR_HOST = stack.pubsubEmulatorHost;
  const db = new Firestore({ projectId: stack.project });
  const pubsub = new PubSub({ projectId: stack.project });
  const storage = new Storage({ projectId: stack.project, apiEndpoint: stack.storage.url });
  const bucket = storage.bucket(stack.buckets.images);
  const taps: Subscription[] = [];
  try {
    await run(DROPSHIP, ['deploy', DEMO_MODEL_DIR, '--model', 'digits', '--version', 'v1', '--wait', '--data', data], { cwd: REPO_ROOT, env: localEnv(), maxBuffer: 1 << 24 });
    const counts = { requests: 0, results: 0 };
    for (const [topic, key] of [
      ['prediction-requests', 'requests'],
      ['prediction-results', 'results'],
    ] as const) {
      const [sub] = await pubsub.topic(stack.topics[topic] ?? topic).createSubscription(`bench-big-${key}-${Date.now()}`);
      sub.on('message', (m: { ack(): void }) => {
        counts[key]++;
        m.ack();
      });
      taps.push(sub);
    }
    const names = await uploadDigits(bucket, n, say);
    const figures: Figure[] = [];
    for (const mode of ['online', 'batch'] as const) {
      const job = `big-${mode}-${n}`;
      const before = { ...counts };
      const opsBefore = await firestoreOps(stack);
      resetIntakePeak(data);
      const t = Date.now();
      await bucket.file(`${job}/_manifest.txt`).save([JSON.stringify({ model: 'digits', mode }), ...names.map((name) => `gs://${bucket.name}/${name}`)].join('\n'), { resumable: false });
      const doc = await waitForCompletion(db, job, n, (l) => say(`${l}; intake RSS ${intakeRssMiB(data) ?? '?'} MiB`));
      const seconds = (Date.now() - t) / 1000;
      await new Promise((r) => setTimeout(r, 2_000)); // the taps' last messages
      const intake = intakePeak(data);
      const hwmKb = intake && Math.round(intake.bytes / 1024);
      const ok = (doc.counts as { ok?: number } | undefined)?.ok ?? 0;
      const perImage = { requests: (counts.requests - before.requests) / n, results: (counts.results - before.results) / n };
      const ops = firestoreOpsPerImage(opsBefore, await firestoreOps(stack), n);
      say(
        `big job ${mode}: ${n} images in ${seconds.toFixed(1)} s = ${(n / seconds).toFixed(1)} img/s; ${perImage.requests.toFixed(3)} request + ${perImage.results.toFixed(3)} result messages per image; ${ops.text}; intake VmHWM ${hwmKb ?? '?'} kB (${intake?.serving ?? '?'})`,
      );
      const note = `${n} digits, demo model, local stack (dropship up --count-firestore-ops), timed from the manifest's upload`;
      figures.push(
        {
          id: `big-job-${mode}-wall`,
          name: `${mode} job of ${n} images: wall time (${(n / seconds).toFixed(1)} img/s)`,
          measured: Math.round(seconds * 10) / 10,
          unit: 's',
          baseline: { value: n, what: 'images' },
          target: 'every image labeled',
          pass: ok === n,
          note,
          details: { mode, images: n, seconds, imagesPerSecond: n / seconds, counts: doc.counts, pubsubMessagesPerImage: perImage, intakeVmHwmKb: hwmKb },
        },
        {
          id: `big-job-${mode}-messages`,
          name: `${mode} job of ${n} images: Pub/Sub messages per image`,
          measured: Math.round((perImage.requests + perImage.results) * 1000) / 1000,
          unit: 'msg/img',
          baseline: { value: 1, what: 'one result message per image' },
          target: 'report',
          pass: true,
          note: `requests ${perImage.requests.toFixed(3)}, results ${perImage.results.toFixed(3)} (job-completed included)`,
        },
        {
          id: `big-job-${mode}-firestore-ops`,
          name: `${mode} job of ${n} images: Firestore document reads + writes per image`,
          measured: Math.round((ops.reads + ops.writes) * 100) / 100,
          unit: 'ops/img',
          baseline: { value: 1, what: 'one result document per image' },
          target: 'report',
          pass: true,
          note: `${ops.reads.toFixed(2)} reads + ${ops.writes.toFixed(2)} writes, as Firestore bills them, of every function (the counting proxy of up --count-firestore-ops); calls per image: ${Object.entries(
            ops.calls,
          )
            .map(([m, v]) => `${m} ${v.toFixed(3)}`)
            .join(', ')}`,
          details: { reads: ops.reads, writes: ops.writes, callsPerImage: ops.calls },
        },
        {
          id: `big-job-${mode}-intake-memory`,
          name: `${mode} job of ${n} images: image-intake peak memory (VmHWM)`,
          measured: Math.round((hwmKb ?? 0) / 1024),
          unit: 'MiB',
          baseline: { value: 512, what: "image-intake's memory in terraform" },
          target: '< 512 MiB',
          pass: hwmKb !== undefined && hwmKb < 512 * 1024,
          note: `this job's peak RSS (VmHWM, reset as the job started) of the process serving ${intake?.serving ?? 'image-intake'}`,
        },
      );
    }
    return figures;
  } finally {
    await Promise.all(taps.map((s) => s.delete().catch(() => undefined)));
    await Promise.all([db.terminate(), pubsub.close()]);
    await up.stop();
  }
}

async function uploadDigits(bucket: ReturnType<Storage['bucket']>, n: number, say: (l: string) => void): Promise<string[]> {
  const digits = heldOutDigits();
  const pngs = await Promise.all(digits.slice(0, 200).map((d) => encodeDigit(d.pixels, 'png')));
  const names = Array.from({ length: n }, (_, i) => `_batch/big/images/d${String(i).padStart(6, '0')}.png`);
  const t = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < n) {
        const i = next++;
        await bucket.file(names[i]!).save(pngs[i % pngs.length]!, { resumable: false, contentType: 'image/png' });
      }
    }),
  );
  say(`big job: ${n} images uploaded in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  return names;
}

async function waitForCompletion(db: Firestore, job: string, n: number, say: (l: string) => void): Promise<Record<string, unknown>> {
  const deadline = Date.now() + Math.max(600_000, n * 100);
  let last = 0;
  for (;;) {
    const doc = (await db.doc(`jobs/${job}`).get()).data() ?? {};
    if (doc.state === 'COMPLETED') return doc;
    const done = ((doc.counts as { ok?: number; error?: number } | undefined)?.ok ?? 0) + ((doc.counts as { error?: number } | undefined)?.error ?? 0);
    if (Date.now() - last > 15_000) {
      say(`big job ${job}: ${done}/${n}`);
      last = Date.now();
    }
    if (Date.now() > deadline) throw new Error(`job ${job} did not complete in time (${done}/${n})`);
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

/** Resets the peak RSS (VmHWM) of the processes serving image-intake to their current RSS ("5" > clear_refs, Linux 4.0+). */
function resetIntakePeak(data: string): void {
  const group = readLedger(data)?.groups.find((g) => g.what.includes('image-intake'));
  for (const pid of group ? sessionMembers(group.pgid) : []) {
    try {
      writeFileSync(`/proc/${pid}/clear_refs`, '5');
    } catch {
      // gone, or not ours: its peak stays the lifetime one
    }
  }
}

/** RSS now (MiB) of the processes serving image-intake, for the progress lines (flat or growing) */
function intakeRssMiB(data: string): number | undefined {
  const group = readLedger(data)?.groups.find((g) => g.what.includes('image-intake'));
  const rss = group ? sessionMembers(group.pgid).map((pid) => procStatusKb(pid, 'VmRSS') ?? 0) : [];
  return rss.length ? Math.round(Math.max(...rss) / 2 ** 20) : undefined;
}

/** VmHWM (bytes) of the process group serving image-intake (and what it serves), from <data>/processes.json and /proc */
function intakePeak(data: string): { bytes: number; serving: string } | undefined {
  const group = readLedger(data)?.groups.find((g) => g.what.includes('image-intake'));
  if (!group) return undefined;
  const peaks = sessionMembers(group.pgid).map((pid) => procStatusKb(pid, 'VmHWM') ?? 0); // bytes, despite the name
  return peaks.length ? { bytes: Math.max(...peaks), serving: group.what } : undefined;
}
