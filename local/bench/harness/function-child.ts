import { fork, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { heapLimitArgs } from '#local/stack/heap-limit';
import type { PredictStats } from '#shared/labeling/predict-batcher';
import { TOPOLOGY } from '#shared/topology';
import type { ChildMessage } from './function-process';

export interface ServedSpec {
  name: string;
  source: string;
  port: number;
  pubsubSource?: string;
}

const READY_TIMEOUT_MS = 60_000;

/**
 * Functions served by a child process (local/bench/harness/function-process.ts) on fixed
 * ports, so it can be killed and started again where push subscriptions expect it.
 */
export class FunctionChild {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    readonly label: string,
    readonly specs: ServedSpec[],
    private readonly env: NodeJS.ProcessEnv,
    private readonly logFile: string,
  ) {}

  url(name: string): string {
    const s = this.specs.find((x) => x.name === name);
    if (!s) throw new Error(`${name} is not served by ${this.label}`);
    return `http://127.0.0.1:${s.port}/`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    const fd = openSync(this.logFile, 'a');
    const child = fork(join(__dirname, 'function-process.ts'), [], {
      // the heap limit of the functions' instances on Google Cloud, as the stack's processes have
      execArgv: [...heapLimitArgs(TOPOLOGY.functions.filter((f) => this.specs.some((s) => s.name === f.name))), '--conditions=source', '--import', 'tsx'],
      env: { ...this.env, BENCH_FUNCTIONS: JSON.stringify(this.specs) },
      stdio: ['ignore', fd, fd, 'ipc'],
    });
    closeSync(fd);
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.label} did not start within ${READY_TIMEOUT_MS} ms (see ${this.logFile})`)), READY_TIMEOUT_MS);
      const onMessage = (m: ChildMessage) => {
        if (m.type !== 'ready') return;
        clearTimeout(timer);
        child.off('message', onMessage);
        resolve();
      };
      child.on('message', onMessage);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${this.label} exited with ${code} before it was ready (see ${this.logFile})`));
      });
    });
  }

  /** SIGKILL, as an instance dies with requests in flight: nothing is flushed or acknowledged. */
  async kill(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    c.kill('SIGKILL');
    await this.exited;
  }

  async stop(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), 3000);
    await this.exited;
    clearTimeout(timer);
  }

  /** predict calls and bytes the worker sent so far, and its resident memory now */
  async stats(): Promise<{ predictStats: PredictStats; rss: number }> {
    const c = this.child;
    if (!c) throw new Error(`${this.label} is not running`);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.label} did not answer for its stats`)), 10_000);
      const onMessage = (m: ChildMessage) => {
        if (m.type !== 'stats') return;
        clearTimeout(timer);
        c.off('message', onMessage);
        resolve({ predictStats: m.predictStats, rss: m.rss });
      };
      c.on('message', onMessage);
      c.send({ type: 'stats' });
    });
  }

  /** Resident set size now, in bytes, read by the kernel's account (no cooperation needed). */
  rssBytes(): number | undefined {
    return procStatusKb(this.child?.pid, 'VmRSS');
  }
}

export function procStatusKb(pid: number | undefined, field: 'VmRSS' | 'VmHWM'): number | undefined {
  if (!pid) return undefined;
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Samples a process's RSS every `everyMs` until stopped; the peak is what the kernel saw at a sample. */
export function sampleRss(read: () => number | undefined, everyMs = 100): { stop(): number } {
  let peak = read() ?? 0;
  const t = setInterval(() => {
    peak = Math.max(peak, read() ?? 0);
  }, everyMs);
  return {
    stop() {
      clearInterval(t);
      return Math.max(peak, read() ?? 0);
    },
  };
}
