import { readdirSync, readFileSync } from 'node:fs';
import { setPriority } from 'node:os';

/** pid, ppid and process group of every process, from /proc */
function processes(): Array<{ pid: number; ppid: number; pgid: number }> {
  const out: Array<{ pid: number; ppid: number; pgid: number }> = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // fields after "(comm) ": state ppid pgrp ...
      const [, ppid, pgid] = readFileSync(`/proc/${name}/stat`, 'utf8').split(') ').pop()!.split(' ');
      out.push({ pid: Number(name), ppid: Number(ppid), pgid: Number(pgid) });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/**
 * Sets the nice value of every thread of the given processes, of their descendants and of
 * everything in the given process groups (Linux keeps nice per thread: renicing a pid alone
 * changes its main thread only; threads started later inherit from the thread that starts
 * them). Raising nice needs no privilege. Returns how many threads were changed.
 */
export function reniceTrees(opts: { pids: number[]; groups: number[] }, nice: number): number {
  const all = processes();
  const chosen = new Set<number>(opts.pids);
  for (const p of all) if (opts.groups.includes(p.pgid)) chosen.add(p.pid);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of all) {
      if (!chosen.has(p.pid) && chosen.has(p.ppid)) {
        chosen.add(p.pid);
        grew = true;
      }
    }
  }
  let threads = 0;
  for (const pid of chosen) {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        setPriority(Number(tid), nice);
        threads++;
      } catch {
        // exited meanwhile
      }
    }
  }
  return threads;
}
