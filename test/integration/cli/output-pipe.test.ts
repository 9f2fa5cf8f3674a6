import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Firestore } from '@google-cloud/firestore';
import { startControlServer } from '#local/stack/control-server';
import { writeStackFile } from '#local/stack/stack-file';
import { requireEmulatorEnv, uniqueProjectId } from '#test/support/emulator-env';
import { cliEnv, DROPSHIP, REPO_ROOT } from './run-cli';

/**
 * Every CLI output survives a pipe, whatever its size: `dropship results J --json` of 300
 * results (well over the 64 KiB a pipe holds) through a pipe into a reader that starts late
 * gets every byte the same command writes to a file; and a reader that stops early (`| head -1`)
 * ends the command cleanly, with no stack trace. The "stack" here is a stack.json pointing at
 * the shared Firestore emulator and a control server in this process: no emulator is started.
 */
const RESULTS = 300;
const JOB = 'pipe-job';

let dataDir: string;
let control: { url: string; close(): Promise<void> };
let db: Firestore;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  const hosts = requireEmulatorEnv();
  const project = uniqueProjectId();
  dataDir = mkdtempSync(join(tmpdir(), 'dropship-pipe-'));
  control = await startControlServer();
  writeStackFile({
    pid: process.pid,
    processGroups: [],
    startedAt: new Date().toISOString(),
    readyAt: new Date().toISOString(),
    dataDir,
    project,
    region: 'us-central1',
    controlUrl: control.url,
    pubsubEmulatorHost: hosts.pubsub,
    firestoreEmulatorHost: hosts.firestore,
    storage: { url: 'http://127.0.0.1:9', dataDir: join(dataDir, 'storage') },
    vertex: { endpoint: '127.0.0.1:9' },
    buckets: { models: 'dropship-models', images: 'dropship-images' },
    topics: {},
    functions: {},
  });
  db = new Firestore({ projectId: project });
  const job = db.collection('jobs').doc(JOB);
  await job.set({ job: JOB, model: 'digits', state: 'COMPLETED', counts: { ok: RESULTS, error: 0 } });
  const writer = db.bulkWriter();
  for (let i = 0; i < RESULTS; i++) {
    const id = `r${String(i).padStart(4, '0')}`;
    void writer.set(job.collection('results').doc(id), {
      id,
      job: JOB,
      imageUri: `gs://dropship-images/${JOB}/digit-${String(i).padStart(5, '0')}.png`,
      generation: String(1_700_000_000_000_000 + i),
      status: 'OK',
      label: String(i % 10),
      confidence: 0.9,
      error: null,
      reason: null,
      modelName: 'projects/demo/locations/us-central1/models/digits',
      model: 'digits',
      modelVersionId: '1',
      deployedModelId: '1234567890',
      latencyMs: 12,
    });
  }
  await writer.close();
  env = cliEnv({ DROPSHIP_DATA: dataDir });
});

afterAll(async () => {
  await db?.terminate();
  await control?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

function exited(child: ReturnType<typeof spawn>): Promise<number | null> {
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code));
  });
}

test('results --json through a pipe into a late reader: every byte the file gets', async () => {
  const file = join(dataDir, 'results.json');
  const fd = openSync(file, 'w');
  const toFile = spawn(DROPSHIP, ['results', JOB, '--json'], { cwd: REPO_ROOT, env, stdio: ['ignore', fd, 'pipe'] });
  closeSync(fd);
  expect(await exited(toFile)).toBe(0);
  const expected = readFileSync(file);
  expect(expected.length).toBeGreaterThan(65_536);
  expect(JSON.parse(expected.toString('utf8'))).toHaveLength(RESULTS);

  // A shell pipe (pipe(2): Node writes to it asynchronously, unlike the socket pair spawn()
  // gives a child) into a reader that takes one byte, then sleeps, so the pipe fills while the
  // CLI still has output queued when its command is done; then it counts the rest.
  const script = `"${DROPSHIP}" results ${JOB} --json 2>"${join(dataDir, 'pipe.err')}" | (dd bs=1 count=1 of=/dev/null 2>/dev/null; sleep 1; wc -c); echo "codes:\${PIPESTATUS[0]}:\${PIPESTATUS[1]}"`;
  const shell = spawn('bash', ['-c', script], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  shell.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  expect(await exited(shell)).toBe(0);
  const [count, codes] = out.trim().split('\n');
  expect(readFileSync(join(dataDir, 'pipe.err'), 'utf8')).toBe('');
  expect(codes).toBe('codes:0:0');
  expect(1 + Number(count!.trim())).toBe(expected.length);
});

test('results --json | head -1: the command ends cleanly when the reader stops early', async () => {
  const script = `"${DROPSHIP}" results ${JOB} --json 2>"${join(dataDir, 'head.err')}" | head -1; echo "codes:\${PIPESTATUS[0]}:\${PIPESTATUS[1]}"`;
  const child = spawn('bash', ['-c', script], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  expect(await exited(child)).toBe(0);
  expect(out.split('\n')[0]).toBe('[');
  expect(out).toContain('codes:0:0');
  const err = readFileSync(join(dataDir, 'head.err'), 'utf8');
  expect(err).not.toMatch(/Error|at .*\(|EPIPE/);
});
