import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Firestore } from '@google-cloud/firestore';
import { encodeDigit, heldOutDigits } from '#local/model-build/mnist-digits';
import { firestoreOps, firestoreOpsPerImage } from '#local/stack/firestore-ops';
import { readLedger, taggedProcesses } from '#local/stack/process-ledger';
import { findRunningStack, type StackInfo } from '#local/stack/stack-file';
import { GcloudCli, gcloudAvailable } from '#test/support/gcloud-cli';
import { DEMO_MODEL_DIR } from '../cli/model-fixtures';
import { cliEnv, DROPSHIP, REPO_ROOT, runCli } from '../cli/run-cli';

/**
 * Issue 12's folder copy, scaled down from the bench's 10,000 files (`npm run bench -- --only
 * folder-copy`), on the real `dropship up` with the tools a user has: `cp -r` of IMAGES digit
 * PNGs into the images bucket's folder while `dropship status` is run again and again (every
 * run must answer), then `gcloud storage ls` lists every copied file as an object, and the job
 * ends with exactly one OK result per image, each labeled from its own generation. Last, a
 * second copy is interrupted by SIGTERM: `up` exits 0 and nothing carrying the stack's tag (the
 * emulators, the function processes, their watchdogs) is left. No timings are asserted; the
 * bench measures them.
 */
jest.setTimeout(10 * 60_000);

const IMAGES = 200;
const HAVE_GCLOUD = gcloudAvailable();
if (!HAVE_GCLOUD) {
  // eslint-disable-next-line no-console
  console.warn('SKIPPED test/integration/real-clients/folder-copy-up.test.ts: gcloud is not installed (dropship up needs its emulators)');
}
const describeWithGcloud = HAVE_GCLOUD ? describe : describe.skip;

describeWithGcloud('cp -r of a folder of images into a running dropship up', () => {
  const root = mkdtempSync(join(tmpdir(), 'dropship-folder-up-'));
  const data = join(root, 'data');
  const src = join(root, 'digits');
  const env = cliEnv();
  let up: ChildProcess;
  let exited: Promise<number | null>;
  let stack: StackInfo;
  let db: Firestore;

  const dropship = (...args: string[]) => runCli([...args, '--data', data], { env, timeoutMs: 5 * 60_000 });
  const resultDocs = async (job: string) => (await db.collection(`jobs/${job}/results`).get()).docs.map((d) => d.data() as { imageUri: string; status: string; generation: string | null });
  const until = async (what: string, done: () => Promise<boolean>, timeoutMs = 5 * 60_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await done())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  };

  beforeAll(async () => {
    mkdirSync(src, { recursive: true });
    const digits = heldOutDigits();
    for (let i = 0; i < IMAGES; i++) writeFileSync(join(src, `digit-${String(i).padStart(4, '0')}.png`), await encodeDigit(digits[i % digits.length]!.pixels, 'png'));
    const out = openSync(join(root, 'up.log'), 'a');
    // --count-firestore-ops: the functions' Firestore traffic goes through the counting proxy (transparent, or nothing below works)
    up = spawn(DROPSHIP, ['up', '--data', data, '--lro-delay-ms', '500', '--tick-ms', '1000', '--count-firestore-ops'], { cwd: REPO_ROOT, env, stdio: ['ignore', out, out] });
    closeSync(out);
    exited = new Promise((resolve) => up.on('exit', resolve));
    await until('dropship up', async () => {
      if (up.exitCode !== null) throw new Error(`dropship up exited early:\n${readFileSync(join(root, 'up.log'), 'utf8')}`);
      stack = (await findRunningStack(data).catch(() => undefined)) as StackInfo;
      return !!stack;
    });
    // The client prefers FIRESTORE_EMULATOR_HOST (jest's shared emulator) to any setting.
    const shared = process.env.FIRESTORE_EMULATOR_HOST;
    process.env.FIRESTORE_EMULATOR_HOST = stack.firestoreEmulatorHost;
    db = new Firestore({ projectId: stack.project });
    if (shared === undefined) delete process.env.FIRESTORE_EMULATOR_HOST;
    else process.env.FIRESTORE_EMULATOR_HOST = shared;
    const deployed = await dropship('deploy', DEMO_MODEL_DIR, '--model', 'digits', '--version', 'v1', '--wait');
    expect({ code: deployed.code, stderr: deployed.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
  });

  afterAll(async () => {
    await db?.terminate();
    if (up?.pid && up.exitCode === null && up.signalCode === null) {
      up.kill('SIGKILL'); // the watchdogs stop the rest
      await exited;
    }
    rmSync(root, { recursive: true, force: true });
  });

  it('registers every file while dropship status keeps answering, then labels each image exactly once', async () => {
    const job = 'copied-in';
    const bucketDir = join(stack.storage.dataDir, stack.buckets.images);
    const opsBefore = await firestoreOps(stack);
    const copy = new Promise<number | null>((resolve) => spawn('cp', ['-r', src, join(bucketDir, job)], { stdio: 'ignore' }).on('exit', resolve));
    const gcloud = new GcloudCli({ project: stack.project, storage: stack.storage.url });
    const listed = async () => (await gcloud.ok(['storage', 'ls', `gs://${stack.buckets.images}/${job}/`])).split('\n').filter((l) => l.endsWith('.png'));

    const statusRuns: Array<number | null> = [];
    let registered = 0;
    while (registered < IMAGES) {
      statusRuns.push((await dropship('status')).code);
      registered = (await listed()).length;
    }
    expect(await copy).toBe(0);
    expect(statusRuns.length).toBeGreaterThan(0);
    expect(statusRuns.every((c) => c === 0)).toBe(true);
    expect((await listed()).sort()).toEqual(
      readdirSync(src)
        .sort()
        .map((f) => `gs://${stack.buckets.images}/${job}/${f}`),
    );

    await until(`${IMAGES} results`, async () => (await db.collection(`jobs/${job}/results`).count().get()).data().count >= IMAGES);
    // a few more seconds for a duplicate to land, if the pipeline made one
    await new Promise((r) => setTimeout(r, 3000));
    const docs = await resultDocs(job);
    expect(docs).toHaveLength(IMAGES);
    expect(new Set(docs.map((d) => d.imageUri)).size).toBe(IMAGES);
    expect(docs.filter((d) => d.status === 'OK')).toHaveLength(IMAGES);
    expect(docs.every((d) => /^\d+$/.test(d.generation ?? ''))).toBe(true); // pinned to the copied generation

    // What the folder job cost in Firestore, as counted between the functions and the emulator:
    // each image's result, its event's claim and done mark and the ledger's flag are written,
    // and the claims and marks of images arriving together share commits.
    const ops = await firestoreOps(stack);
    const perImage = firestoreOpsPerImage(opsBefore, ops, IMAGES);
    process.stdout.write(`[measure] folder job of ${IMAGES}: ${perImage.text}\n`);
    expect(ops.parseErrors).toBe(0);
    expect(perImage.writes).toBeGreaterThanOrEqual(3);
    expect(perImage.writes).toBeLessThan(8);
    expect(perImage.calls.Commit!).toBeLessThan(perImage.writes / 2);
  });

  it('stops on SIGTERM in the middle of a copy, leaving no process that carries its tag', async () => {
    const tag = readLedger(data)!.tag;
    const bucketDir = join(stack.storage.dataDir, stack.buckets.images);
    const copy = new Promise<number | null>((resolve) => spawn('cp', ['-r', src, join(bucketDir, 'interrupted')], { stdio: 'ignore' }).on('exit', resolve));
    const objects = join(stack.storage.dataDir, '.storage-emulator', 'objects', stack.buckets.images);
    const before = readdirSync(objects).length;
    await until('the second copy to be under way', async () => readdirSync(objects).length > before);
    up.kill('SIGTERM');
    expect(await exited).toBe(0);
    await copy;
    const left = await (async () => {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const pids = taggedProcesses(tag);
        if (pids.length === 0 || Date.now() > deadline) return pids;
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    expect(left).toEqual([]);
  });
});
