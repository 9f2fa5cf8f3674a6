import { readFileSync } from 'node:fs';
import { sessionMembers } from '#local/emulators/process-group';
import { readLedger } from '#local/stack/process-ledger';

/** CPU seconds (user + system) used so far by each part of a running stack, by its name */
export type CpuSeconds = Record<string, number>;

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

function cpuOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND; // utime, stime
  } catch {
    return 0;
  }
}

/**
 * Reads /proc for the stack process (`up`: the Storage and Vertex AI emulators, the push
 * bridges, the control server) and for every process group its <data>/processes.json records
 * (the gcloud emulators, the function processes), by the name recorded there. A process that
 * exited meanwhile no longer counts: compare samples of processes that live throughout.
 */
export function sampleStackCpu(dataDir: string, upPid: number): CpuSeconds {
  const out: CpuSeconds = { up: cpuOf(upPid) };
  for (const g of readLedger(dataDir)?.groups ?? []) out[g.what] = sessionMembers(g.pgid).reduce((sum, pid) => sum + cpuOf(pid), 0);
  return out;
}

/** what each part used between two samples, busiest first, as "name 12.3 s" (parts under `minSeconds` left out) */
export function cpuBetween(before: CpuSeconds, after: CpuSeconds, minSeconds = -Infinity): string {
  return Object.keys(after)
    .map((k) => [k, after[k]! - (before[k] ?? 0)] as const)
    .filter(([, s]) => s >= minSeconds)
    .sort((a, b) => b[1] - a[1])
    .map(([k, s]) => `${k} ${s.toFixed(1)} s`)
    .join(', ');
}

/** CPU seconds the whole machine spent (all cores, every process), for the load beside the stack */
export function machineCpuSeconds(): number {
  const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  const [user, nice, system, , , irq, softirq, steal] = fields.map(Number) as number[];
  return (user! + nice! + system! + irq! + softirq! + steal!) / TICKS_PER_SECOND;
}
