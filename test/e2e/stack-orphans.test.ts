import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sessionMembers } from '#local/emulators/process-group';
import { WATCHDOG_TAG_ENV } from '#local/emulators/watchdog';
import { ledgerPath, readLedger, taggedProcesses, type ProcessLedgerFile } from '#local/stack/process-ledger';
import { findRunningStack, type StackInfo } from '#local/stack/stack-file';
import { cliEnv, DROPSHIP, REPO_ROOT } from '../integration/cli/run-cli';

/**
 * No emulator and no function process outlives the stack that started it, however the stack
 * ends: `dropship up` is sent SIGTERM and SIGKILLed two seconds later (what a test harness or a
 * container runtime does), and every process of the emulators' and functions' sessions and
 * every port the stack listened on is gone soon after. Then a crashed stack's leftover is
 * planted in the same data folder (a process carrying that stack's tag, recorded in
 * processes.json) beside a decoy recorded there too but without the tag (a pid reused by
 * someone else): a new `dropship up` stops the first and leaves the decoy alone. That stack is
 * then killed with a bare SIGKILL, with the same check. Last, stacks are stopped while they
 * start: SIGTERM while the emulators start and while the functions start (each exits 0, and
 * only once every process group it had recorded is gone), and SIGKILL while the functions
 * start; no process carrying the stack's tag is left.
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

function spawnUp(log: string): { up: ChildProcess; exited: Promise<number | null> } {
  const out = openSync(join(root, `${log}.out`), 'a');
  const err = openSync(join(root, `${log}.err`), 'a');
  const up = spawn(DROPSHIP, ['up', '--data', data], { cwd: REPO_ROOT, env, detached: true, stdio: ['ignore', out, err] });
  closeSync(out);
  closeSync(err);
  spawned.push(up);
  const exited = new Promise<number | null>((resolve) => up.on('exit', resolve));
  return { up, exited };
}

async function startUp(log: string): Promise<{ up: ChildProcess; stack: StackInfo; exited: Promise<unknown> }> {
  const { up, exited } = spawnUp(log);
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
  const urls = [stack.pubsubEmulatorHost, stack.firestoreEmulatorHost, stack.storage.url, stack.vertex.endpoint, stack.controlUrl, ...Object.values(stack.functions)];
  const ports = urls.map((u) => Number(/:(\d+)\/?$/.exec(u)![1]));
  if (stack.vertex.restPort) ports.push(stack.vertex.restPort);
  return { pids, ports };
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/** polls until `done` holds or the deadline passes; the caller asserts on what it sees then */
async function poll<T>(read: () => T | Promise<T>, done: (v: T) => boolean, withinMs: number): Promise<T> {
  const until = Date.now() + withinMs;
  for (;;) {
    const v = await read();
    if (done(v) || Date.now() > until) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function isLive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'; // an orphan's zombie waits for init
  } catch {
    return false;
  }
}

/** the process groups that still exist (`kill(-pgid, 0)` succeeds while any member, even a zombie, is there) */
function groupsStillThere(pgids: number[]): number[] {
  return pgids.filter((g) => {
    try {
      process.kill(-g, 0);
      return true;
    } catch {
      return false;
    }
  });
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
  // the functions are served by processes of their own, not by `up`
  expect(run.pids.filter((p) => commandLine(p).includes('functions-process')).length).toBeGreaterThanOrEqual(2);
  expect(Object.keys(stack.functions)).toEqual(expect.arrayContaining(['image-intake', 'predict-worker']));
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

describe('stopped while it starts', () => {
  const cases: Array<{ name: string; signal: NodeJS.Signals; when: (l: ProcessLedgerFile) => boolean }> = [
    { name: 'SIGTERM while the emulators start', signal: 'SIGTERM', when: (l) => l.groups.some((g) => g.what.includes('emulator')) },
    { name: 'SIGTERM while the functions start', signal: 'SIGTERM', when: (l) => l.groups.some((g) => g.what.startsWith('functions')) },
    { name: 'SIGKILL while the functions start', signal: 'SIGKILL', when: (l) => l.groups.some((g) => g.what.startsWith('functions')) },
  ];
  test.each(cases)('$name: nothing carrying the stack tag is left', async ({ name, signal, when }) => {
    const log = name.replace(/\W+/g, '-');
    const before = readLedger(data)?.tag; // a killed stack's, until the new `up` reaps it
    const { up, exited } = spawnUp(log);
    const ledger = await poll(
      () => readLedger(data),
      (l) => !!l && l.tag !== before && when(l),
      180_000,
    );
    expect(ledger && when(ledger)).toBe(true);
    // not ready yet: this is the start being interrupted
    expect(await findRunningStack(data).catch(() => undefined)).toBeUndefined();
    const recorded = readLedger(data)?.groups.map((g) => g.pgid) ?? [];
    process.kill(up.pid!, signal);
    const code = await exited;
    if (signal === 'SIGTERM') {
      expect(code).toBe(0);
      expect(readFileSync(join(root, `${log}.err`), 'utf8')).toContain('stopped.');
      // a stop it was given time for ends only once every group it started is gone, zombies
      // (a watchdog that exited before reaping its command) included
      expect(groupsStillThere(recorded)).toEqual([]);
    }
    expect(
      await poll(
        () => taggedProcesses(ledger!.tag),
        (left) => left.length === 0,
        GONE_WITHIN_MS,
      ),
    ).toEqual([]);
  });
});
