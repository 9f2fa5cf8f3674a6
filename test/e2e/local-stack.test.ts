import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, closeSync, readdirSync, readFileSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FUNCTIONS_ENV } from '#local/functions-host/served-spec';
import { findRunningStack, stackFilePath, type StackInfo } from '#local/stack/stack-file';
import { OnnxImageClassifier } from '#local/model/onnx-image-classifier';
import { encodeDigit, heldOutDigits } from '#local/model-build/mnist-digits';
import { DEMO_MODEL_DIR, makeModelFixtures } from '../integration/cli/model-fixtures';
import { cliEnv, DROPSHIP, REPO_ROOT, runCli, type CliRun } from '../integration/cli/run-cli';
import { waitForValue } from '../support/wait-for';

/**
 * What the README tells a newcomer to do, done by a test with the real CLI in child processes:
 * `dropship up` in the background, deploy the demo model and wait, label 100 held-out digits and
 * wait, read the results as JSON, deploy a canary, promote it, roll it back, then Ctrl-C and
 * check that nothing the stack started is left running.
 *
 * Each step starts from a known state: it establishes what it needs (the stack up, v1 deployed)
 * through the same CLI if an earlier step did not, or fails saying which precondition does not
 * hold, so one broken step does not fail every later one for an unrelated reason.
 */
jest.setTimeout(10 * 60_000);

const DIGITS = 100;
const root = mkdtempSync(join(tmpdir(), 'dropship-e2e-'));
const data = join(root, 'data');
const images = join(root, 'digits');
const env = cliEnv();
const timings: Record<string, number> = {};
let fixtures: ReturnType<typeof makeModelFixtures>;
let up: ChildProcess | undefined;
let upExit: Promise<number | null>;
let upExited = false;
let stack: StackInfo | undefined;
let starting: Promise<StackInfo> | undefined;
const truth = new Map<string, number>();

const dropship = async (...args: string[]): Promise<CliRun> => {
  const r = await runCli([...args, '--data', data], { env, timeoutMs: 5 * 60_000 });
  if (process.env.E2E_VERBOSE) process.stderr.write(`$ dropship ${args.join(' ')} -> ${r.code} (${r.ms} ms)\n${r.stderr}`);
  return r;
};
const ok = (r: CliRun) => expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
const status = async () =>
  JSON.parse((await dropship('status', 'digits', '--json')).stdout) as {
    traffic: Record<string, number>;
    versions: Array<{ version: string; state: string }>;
  };
const stateOf = (s: Awaited<ReturnType<typeof status>>, v: string) => s.versions.find((x) => x.version === v)?.state;

/** `dropship up` in the background until its stack file is written; the running one if there is one. */
function ensureStack(): Promise<StackInfo> {
  if (!starting || upExited) starting = startStack();
  return starting;
}

async function startStack(): Promise<StackInfo> {
  const started = Date.now();
  mkdirSync(data, { recursive: true });
  const out = openSync(join(root, 'up.out'), 'a');
  const err = openSync(join(root, 'up.err'), 'a');
  const child = spawn(DROPSHIP, ['up', '--data', data, '--lro-delay-ms', '1000', '--tick-ms', '2000'], { cwd: REPO_ROOT, env, detached: true, stdio: ['ignore', out, err] });
  up = child;
  closeSync(out);
  closeSync(err);
  upExited = false;
  upExit = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  void upExit.then(() => {
    if (up === child) upExited = true;
  });
  stack = await waitForValue(
    async () => {
      if (upExited) throw new Error(`dropship up exited early:\n${readFileSync(join(root, 'up.err'), 'utf8')}`);
      return findRunningStack(data).catch(() => undefined);
    },
    180_000,
    'dropship up to be ready (its stack file)',
    250,
  );
  timings.upToReady = Date.now() - started;
  return stack;
}

/** Status of the digits model, or undefined while it does not exist. */
async function statusIfAny() {
  const r = await dropship('status', 'digits', '--json');
  return r.code === 0 ? (JSON.parse(r.stdout) as Awaited<ReturnType<typeof status>>) : undefined;
}

/** The stack is up and digits/<version> is DEPLOYED: deployed here if no earlier step did it. */
async function ensureDeployed(version: string, dir: string): Promise<void> {
  await ensureStack();
  const state = stateOf((await statusIfAny()) ?? { traffic: {}, versions: [] }, version);
  if (state === 'DEPLOYED') return;
  if (state) throw new Error(`precondition: digits/${version} is ${state}, not DEPLOYED`);
  const r = await dropship('deploy', dir, '--model', 'digits', '--version', version, '--wait');
  if (r.code !== 0) throw new Error(`precondition: deploying digits/${version} failed (exit ${r.code}): ${r.stderr}`);
}

beforeAll(async () => {
  fixtures = makeModelFixtures();
  mkdirSync(images, { recursive: true });
  // 100 held-out digits spread over all ten classes, as PNG files a user would have.
  const all = heldOutDigits();
  const step = Math.floor(all.length / DIGITS);
  for (let i = 0; i < DIGITS; i++) {
    const d = all[i * step]!;
    const file = `digit-${String(i).padStart(3, '0')}.png`;
    writeFileSync(join(images, file), await encodeDigit(d.pixels, 'png'));
    truth.set(file, d.label);
  }
});

afterAll(async () => {
  // If a step failed before the shutdown test, still leave nothing behind.
  if (up?.pid && up.exitCode === null && up.signalCode === null) {
    try {
      process.kill(-up.pid, 'SIGINT');
    } catch {
      // gone
    }
    await Promise.race([upExit, new Promise((r) => setTimeout(r, 30_000))]);
    for (const g of [up.pid, ...(stack?.processGroups ?? [])]) {
      try {
        process.kill(-g, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  fixtures?.cleanup();
  if (!process.env.E2E_KEEP) rmSync(root, { recursive: true, force: true });
  process.stdout.write(`\nend-to-end timings (ms): ${JSON.stringify(timings)}\n`);
});

test('dropship up starts the whole stack in the background and says where to drop files', async () => {
  const running = await ensureStack();
  const banner = readFileSync(join(root, 'up.out'), 'utf8');
  expect(banner).toContain('dropship is ready');
  expect(banner).toContain(join(data, 'storage', running.buckets.models));
  expect(banner).toContain(join(data, 'storage', running.buckets.images));
  expect(Object.keys(running.functions).sort()).toEqual(['batch-follower', 'dead-letter-recorder', 'image-intake', 'model-drop', 'predict-worker', 'reconciler', 'results-ledger']);
});

test('dropship deploy --wait uploads the demo model and follows it to DEPLOYED', async () => {
  // Prepare: a running stack without the model
  await ensureStack();
  expect(await statusIfAny()).toBeUndefined();
  const r = await dropship('deploy', DEMO_MODEL_DIR, '--model', 'digits', '--version', 'v1', '--wait');
  ok(r);
  timings.deployWaitToDeployed = r.ms;
  expect(r.stderr).toMatch(/digits\/v1 DEPLOYED in/);
  const s = await status();
  expect(stateOf(s, 'v1')).toBe('DEPLOYED');
  expect(s.traffic).toEqual({ v1: 100 });
});

test('dropship label --wait labels 100 held-out digits, and results --json returns them as accurately as the model itself', async () => {
  // Prepare: the demo model serving
  await ensureDeployed('v1', DEMO_MODEL_DIR);
  const r = await dropship('label', images, '--job', 'e2e', '--model', 'digits', '--wait');
  ok(r);
  timings.label100Wait = r.ms;
  const res = await dropship('results', 'e2e', '--json');
  ok(res);
  const results = JSON.parse(res.stdout) as Array<{ imageUri: string; status: string; label: string; confidence: number }>;
  expect(results).toHaveLength(DIGITS);
  expect(new Set(results.map((x) => x.imageUri)).size).toBe(DIGITS);
  expect(results.every((x) => x.status === 'OK')).toBe(true);
  // --follow replays what is there and ends once --count results are in; CSV has a header.
  const followed = await dropship('results', 'e2e', '--follow', '--count', String(DIGITS), '--format', 'csv');
  ok(followed);
  expect(followed.stdout.trimEnd().split('\n')).toHaveLength(DIGITS + 1);

  // The demo model's own answers on the same files, without the stack.
  const model = await OnnxImageClassifier.load(DEMO_MODEL_DIR);
  const files = [...truth.keys()];
  const direct = await model.classify(files.map((f) => readFileSync(join(images, f))));
  await model.close();
  const byFile = new Map(results.map((x) => [x.imageUri.split('/').pop()!, x.label]));
  const agree = files.filter((f, i) => byFile.get(f) === direct[i]!.label).length;
  const stackRight = files.filter((f) => byFile.get(f) === String(truth.get(f))).length;
  const modelRight = files.filter((f, i) => direct[i]!.label === String(truth.get(f))).length;
  timings.accuracyPercent = stackRight;
  expect(agree).toBeGreaterThanOrEqual(99);
  expect(Math.abs(stackRight - modelRight)).toBeLessThanOrEqual(1);
  expect(stackRight).toBeGreaterThanOrEqual(85);
});

test('a second version deployed as a canary gets 10%, promote gives it all, rollback restores the split', async () => {
  // Prepare: v1 deployed with all the traffic, no v2 yet
  await ensureDeployed('v1', DEMO_MODEL_DIR);
  const before = await status();
  if (JSON.stringify(before.traffic) !== JSON.stringify({ v1: 100 }) || stateOf(before, 'v2')) throw new Error(`precondition: expected v1 at 100% and no v2, found ${JSON.stringify(before)}`);
  const canary = await dropship('deploy', fixtures.canary, '--model', 'digits', '--version', 'v2', '--wait');
  ok(canary);
  expect(canary.stderr).toContain('10% of traffic');
  let s = await status();
  expect(s.traffic).toEqual({ v1: 90, v2: 10 });

  const promoted = await dropship('promote', 'digits', 'v2', '--wait');
  ok(promoted);
  s = await status();
  expect(s.traffic).toEqual({ v2: 100 });
  expect(stateOf(s, 'v1')).toBe('SUPERSEDED');

  const rolledBack = await dropship('rollback', 'digits', '--wait');
  ok(rolledBack);
  s = await status();
  expect(s.traffic).toEqual({ v1: 90, v2: 10 });
  expect(stateOf(s, 'v1')).toBe('DEPLOYED');
});

test('with the stack running, bad requests fail with the reason', async () => {
  // Prepare: v1 exists and is DEPLOYED
  await ensureDeployed('v1', DEMO_MODEL_DIR);
  const again = await dropship('deploy', DEMO_MODEL_DIR, '--model', 'digits', '--version', 'v1');
  expect(again.code).toBe(1);
  expect(again.stderr).toContain('digits/v1 already exists (DEPLOYED)');

  // Skipping the local check, the model-drop function refuses it and the version ends FAILED.
  const wrong = await dropship('deploy', fixtures.wrongSignature, '--model', 'digits', '--version', 'v3', '--no-check', '--wait');
  expect(wrong.code).toBe(1);
  expect(wrong.stderr).toContain('digits/v3 FAILED');
  expect(wrong.stderr).toContain("output 'label' has dtype DT_INT64, expected DT_STRING");

  const [noModel, noJob, noVersion] = await Promise.all([dropship('status', 'nosuch'), dropship('results', 'nosuch'), dropship('promote', 'digits', 'v9')]);
  expect([noModel.code, noJob.code, noVersion.code]).toEqual([1, 1, 1]);
  expect(noModel.stderr).toContain('no model nosuch');
  expect(noJob.stderr).toContain('no job nosuch');
  expect(noVersion.stderr).toContain('digits/v9 does not exist');
});

test('each function process runs with the heap limit its instances have on Google Cloud', async () => {
  // Prepare: a running stack
  const running = await ensureStack();
  // Act: the processes of the stack's process groups that serve functions, with their node flags
  const served = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .flatMap((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
        const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        const specs = readFileSync(`/proc/${pid}/environ`, 'utf8')
          .split('\0')
          .find((e) => e.startsWith(`${FUNCTIONS_ENV}=`));
        // the function process itself, not its watchdog (node -e SCRIPT -- node ... functions-process.ts)
        const entry = argv.findIndex((a) => a.includes('functions-process'));
        if (!running.processGroups.includes(pgrp) || !specs || entry < 0 || argv[1] === '-e') return [];
        const names = (JSON.parse(specs.slice(FUNCTIONS_ENV.length + 1)) as Array<{ name: string }>).map((x) => x.name);
        // a node flag only before the entry script: after it, it would be the script's argument
        return [{ names: names.join(','), flag: argv.slice(0, entry).find((a) => a.startsWith('--max-old-space-size=')) }];
      } catch {
        return []; // a process that ended while being read
      }
    });
  // Assert: the 512Mi image-intake gets 256 MiB of old space, the 1Gi predict-worker 512, the 256Mi results-ledger V8's floor of 256 (local/stack/heap-limit.ts)
  const flags = Object.fromEntries(served.map((x) => [x.names, x.flag]));
  expect(flags).toMatchObject({
    'image-intake': '--max-old-space-size=256',
    'predict-worker': '--max-old-space-size=512',
    'results-ledger': '--max-old-space-size=256',
  });
  expect(served.every((x) => x.flag)).toBe(true);
});

test('Ctrl-C stops everything the stack started', async () => {
  // Prepare: a running stack
  const running = await ensureStack();
  const groups = [up!.pid!, ...running.processGroups];
  process.kill(-up!.pid!, 'SIGINT');
  const code = await Promise.race([upExit, new Promise<string>((r) => setTimeout(() => r('timeout'), 60_000))]);
  expect(code).toBe(0);
  const alive = groups.filter((g) => {
    try {
      process.kill(-g, 0);
      return true;
    } catch {
      return false;
    }
  });
  expect(alive).toEqual([]);
  expect(existsSync(stackFilePath(data))).toBe(false);
});
