import { spawn } from 'node:child_process';
import { openSync, closeSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createServer, type Socket } from 'node:net';
import { WATCHDOG_SCRIPT, WATCHDOG_TAG_ENV } from './watchdog';

/** A child started in its own process group, so that stopping the group also stops the
 * grandchildren (the gcloud emulator wrappers do not exec java). */
export interface GroupProcess {
  readonly pid: number;
  readonly exited: Promise<number | null>;
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts `command` in a process group of its own, under a watchdog (./watchdog.ts) that leads
 * the group and holds a pipe from this process on its stdin: when this process ends in any
 * way, SIGKILL included, the pipe closes and the watchdog stops the whole group. So no
 * emulator outlives the process that started it. `track.tag` is put in the environment of every
 * process of the group (DROPSHIP_PROCESS_TAG), so that a later `dropship up` can tell a
 * leftover of ours from an unrelated process that reused its pid (local/stack/stale-stack.ts).
 */
export interface GroupTracking {
  /** put in every group member's environment as DROPSHIP_PROCESS_TAG */
  tag: string;
  /** called with the group id as soon as the group exists (to record it in the data folder) */
  onStart(pgid: number): void;
}

export function spawnGroup(
  command: string,
  args: string[],
  /** logFile: where its output goes; absent: to this process's stdout and stderr */
  opts: { logFile?: string; env?: NodeJS.ProcessEnv; cwd?: string; track?: GroupTracking },
): GroupProcess {
  if (opts.logFile) mkdirSync(dirname(opts.logFile), { recursive: true });
  const fd = opts.logFile ? openSync(opts.logFile, 'a') : undefined;
  const env: NodeJS.ProcessEnv = { ...(opts.env ?? process.env) };
  if (opts.track) env[WATCHDOG_TAG_ENV] = opts.track.tag;
  // The watchdog is plain JavaScript: it must not load the caller's loaders (--import tsx);
  // the command gets NODE_OPTIONS back.
  const watchdogEnv: NodeJS.ProcessEnv = { ...env, DROPSHIP_WATCHDOG_NODE_OPTIONS: env.NODE_OPTIONS ?? '' };
  delete watchdogEnv.NODE_OPTIONS;
  const child = spawn(process.execPath, ['-e', WATCHDOG_SCRIPT, '--', command, ...args], {
    detached: true,
    stdio: ['pipe', fd ?? 'inherit', fd ?? 'inherit'],
    env: watchdogEnv,
    cwd: opts.cwd,
  });
  if (fd !== undefined) closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  // The pipe must not keep this process alive, and it is never written to: its end is the message.
  (child.stdin as Socket | null)?.unref?.();
  child.stdin?.on('error', () => undefined);
  const pid = child.pid;
  opts.track?.onStart(pid);
  let done = false;
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => {
      done = true;
      resolve(code);
    });
    child.on('error', () => {
      done = true;
      resolve(null);
    });
  });
  child.unref();
  return {
    pid,
    exited,
    async stop(graceMs = 5000) {
      killGroup(pid, 'SIGTERM');
      const timer = new Promise((r) => setTimeout(r, graceMs));
      await Promise.race([exited, timer]);
      // The wrapper may be gone while java lingers in the group: always finish the group, and
      // call it stopped only when nothing of it is left.
      killGroup(pid, 'SIGKILL');
      if (!done) await Promise.race([exited, new Promise((r) => setTimeout(r, 1000))]);
      await waitGroupGone(pid, 5000);
    },
  };
}

/**
 * Signals a group spawnGroup started: its leader's process group and every process of the
 * session it leads (a gcloud wrapper moves itself and its java into a group of their own
 * inside that session, see ./watchdog.ts).
 */
export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
  for (const member of sessionMembers(pid)) {
    try {
      process.kill(member, signal);
    } catch {
      // gone meanwhile
    }
  }
}

/** live (not zombie) processes whose process group or session is `id`: the ones a signal reaches */
export function sessionMembers(id: number): number[] {
  return groupProcesses(id, false);
}

/** processes whose process group or session is `id`, zombies (exited, not yet reaped) included when asked */
function groupProcesses(id: number, withZombies: boolean): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      // after "(comm) ": state ppid pgrp session ...
      const [state, , pgrp, session] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if ((withZombies || state !== 'Z') && (Number(pgrp) === id || Number(session) === id)) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/**
 * True once nothing at all is left of a group spawnGroup started: no process, zombies included,
 * in its process group (`kill(-pgid, 0)` fails) or its session. A zombie still counts: until it
 * is reaped it holds its pid and its group, and `kill(-pgid, 0)` still succeeds. A member whose
 * parent died before reaping it is reaped by init, usually within a second or two.
 */
export function groupGone(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return false;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') return false;
  }
  return groupProcesses(pgid, true).length === 0;
}

/** Waits until groupGone(pgid); false if something is still left at the deadline. */
export async function waitGroupGone(pgid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (groupGone(pgid)) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A port free on 127.0.0.1 now, for a server that starts a moment later (the gcloud emulators
 * take their port as an argument). Picked below the kernel's ephemeral range
 * (net.ipv4.ip_local_port_range, 32768-60999 by default): a port from that range, as
 * `listen(0)` gives, can be taken in between by any outgoing connection, and under load one
 * was (EADDRINUSE for the Vertex AI emulator while a bench ran beside the tests). Falls back
 * to listen(0) if no port below the range is free after a few tries.
 */
export async function freePort(): Promise<number> {
  const low = ephemeralLow();
  for (let i = 0; low > PRIVATE_LOW + 1000 && i < 32; i++) {
    const port = PRIVATE_LOW + Math.floor(Math.random() * (low - PRIVATE_LOW));
    if (await canListen(port)) return port;
  }
  return listenOnce(0);
}

/** the lowest port of the range freePort picks from, well above the usual fixed service ports */
const PRIVATE_LOW = 20000;

function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 0 ? low : 32768;
  } catch {
    return 32768; // not Linux: the IANA range starts at 49152, so below 32768 is outside it too
  }
}

const canListen = (port: number) =>
  listenOnce(port).then(
    () => true,
    () => false,
  );

function listenOnce(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(port, '127.0.0.1', () => {
      const addr = srv.address();
      const got = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(got));
    });
  });
}

/** Polls an HTTP URL until it answers 2xx, the process exits, or the deadline passes. */
export async function waitForHttp(url: string, proc: GroupProcess, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitedEarly = false;
  void proc.exited.then(() => (exitedEarly = true));
  while (Date.now() < deadline) {
    if (exitedEarly) throw new Error(`${what} exited before it was ready`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} was not ready at ${url} within ${timeoutMs} ms`);
}
