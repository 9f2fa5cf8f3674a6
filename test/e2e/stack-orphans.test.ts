import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sessionMembers } from '#local/emulators/process-group';
import { WATCHDOG_TAG_ENV } from '#local/emulators/watchdog';
import { ledgerPath, type ProcessLedgerFile } from '#local/stack/process-ledger';
import { findRunningStack, type StackInfo } from '#local/stack/stack-file';
import { cliEnv, DROPSHIP, REPO_ROOT } from '../integration/cli/run-cli';

/**
 * No emulator outlives the stack that started it, however the stack ends: `dropship up` is
 * sent SIGTERM and SIGKILLed two seconds later (what a test harness or a container runtime
 * does), and every process of the emulators' sessions and every port the stack listened on is
 * gone soon after. Then a crashed stack's leftover is planted in the same data folder (a
 * process carrying that stack's tag, recorded in processes.json) beside a decoy recorded there
 * too but without the tag (a pid reused by someone else): a new `dropship up` stops the first
 * and leaves the decoy alone. That stack is then killed with a bare SIGKILL, with the same check.
 */
jest.setTimeout(6 * 60_000);

const GONE_WITHIN_MS = 20_000;
const root = mkdtempSync(join(tmpdir(), 'dropship-orphans-'));
const data = join(root, 'data');
const env = cliEnv();
const spawned: ChildProcess[] = [];

afterAll(() => {
  for (const c of spawned) {
    if (c.pid && c.exitCode === null && c.signalCode === null) {
      try {
        process.kill(-c.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  rmSync(root, { recursive: true, force: true });
});

async function startUp(log: string): Promise<{ up: ChildProcess; stack: StackInfo; exited: Promise<unknown> }> {
  const out = openSync(join(root, `${log}.out`), 'a');
  const err = openSync(join(root, `${log}.err`), 'a');
  const up = spawn(DROPSHIP, ['up', '--data', data], { cwd: REPO_ROOT, env, detached: true, stdio: ['ignore', out, err] });
  closeSync(out);
  closeSync(err);
  spawned.push(up);
  const exited = new Promise((resolve) => up.on('exit', resolve));
  let done = false;
  void exited.then(() => (done = true));
  const started = Date.now();
  for (;;) {
    const stack = await findRunningStack(data).catch(() => undefined);
    if (stack) return { up, stack, exited };
    if (done) throw new Error(`dropship up exited early:\n${readFileSync(join(root, `${log}.err`), 'utf8')}`);
    if (Date.now() - started > 180_000) throw new Error('dropship up was not ready within 180 s');
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** every process of the emulators' sessions, and every port, of a running stack */
function whatTheStackRuns(stack: StackInfo): { pids: number[]; ports: number[] } {
  const pids = stack.processGroups.flatMap((g) => sessionMembers(g));
  const ports = [stack.pubsubEmulatorHost, stack.firestoreEmulatorHost, stack.storage.url, stack.vertex.endpoint, stack.controlUrl].map((u) => Number(/:(\d+)\/?$/.exec(u)![1]));
  if (stack.vertex.restPort) ports.push(stack.vertex.restPort);
  return { pids, ports };
}

function isLive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'; // an orphan's zombie waits for init
  } catch {
    return false;
  }
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** waits until none of the pids is alive and none of the ports answers; returns what is left */
async function leftovers(run: { pids: number[]; ports: number[] }): Promise<{ pids: number[]; ports: number[] }> {
  const until = Date.now() + GONE_WITHIN_MS;
  for (;;) {
    const pids = run.pids.filter(isLive);
    const ports: number[] = [];
    for (const p of run.ports) if (await listening(p)) ports.push(p);
    if ((pids.length === 0 && ports.length === 0) || Date.now() > until) return { pids, ports };
    await new Promise((r) => setTimeout(r, 250));
  }
}

test('SIGTERM, then SIGKILL two seconds later: no emulator process and no port is left', async () => {
  const { up, stack, exited } = await startUp('up1');
  const run = whatTheStackRuns(stack);
  expect(run.pids.length).toBeGreaterThanOrEqual(6); // two watchdogs, two gcloud wrappers, their java
  process.kill(up.pid!, 'SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
  if (up.exitCode === null && up.signalCode === null) process.kill(up.pid!, 'SIGKILL');
  await exited;
  expect(await leftovers(run)).toEqual({ pids: [], ports: [] });
});

test('dropship up stops what a crashed stack left behind (only what carries its tag), and a bare SIGKILL leaves nothing', async () => {
  const tag = 'dropship-0123456789abcdef';
  const stale = spawn('sleep', ['600'], { detached: true, stdio: 'ignore', env: { ...process.env, [WATCHDOG_TAG_ENV]: tag } });
  const decoy = spawn('sleep', ['600'], { detached: true, stdio: 'ignore' });
  spawned.push(stale, decoy);
  const ledger: ProcessLedgerFile = {
    ownerPid: 999_999, // no such process: the stack that wrote this is gone
    ownerStartTicks: '1',
    tag,
    groups: [
      { pgid: stale.pid!, what: 'pubsub emulator' },
      { pgid: decoy.pid!, what: 'firestore emulator' },
    ],
  };
  writeFileSync(ledgerPath(data), JSON.stringify(ledger));
  const staleExit = new Promise((resolve) => stale.on('exit', (_code, signal) => resolve(signal)));

  const { up, stack, exited } = await startUp('up2');
  expect(await staleExit).toBe('SIGTERM');
  expect(isLive(decoy.pid!)).toBe(true);
  expect(readFileSync(join(root, 'up2.err'), 'utf8')).toContain(`stopped emulators left behind by a stack that did not shut down: process groups ${stale.pid}`);

  const run = whatTheStackRuns(stack);
  expect(run.pids.length).toBeGreaterThanOrEqual(6);
  process.kill(up.pid!, 'SIGKILL');
  await exited;
  expect(await leftovers(run)).toEqual({ pids: [], ports: [] });
  expect(isLive(decoy.pid!)).toBe(true);
});
