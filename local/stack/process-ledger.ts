import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, renameSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { waitGroupGone, type GroupTracking } from '#local/emulators/process-group';
import { WATCHDOG_TAG_ENV } from '#local/emulators/watchdog';

/**
 * <data>/processes.json: the process groups a stack started, written as each one starts (not
 * once the stack is ready, as stack.json is), so a stack killed while starting is covered too.
 * It names the stack process (pid and start time, which together never repeat) and a random
 * tag that every process of those groups carries in its environment (DROPSHIP_PROCESS_TAG):
 * a later `dropship up` signals only processes that carry it (local/stack/stale-stack.ts).
 */
const ledgerSchema = z.object({
  ownerPid: z.number().int().positive(),
  /** field 22 of /proc/<pid>/stat: with the pid, tells the owner from a process that reused its pid */
  ownerStartTicks: z.string(),
  tag: z.string().min(8),
  groups: z.array(z.object({ pgid: z.number().int().positive(), what: z.string() })),
});

export type ProcessLedgerFile = z.infer<typeof ledgerSchema>;

export function ledgerPath(dataDir: string): string {
  return join(dataDir, 'processes.json');
}

export class ProcessLedger {
  readonly tag = `dropship-${randomBytes(8).toString('hex')}`;
  private readonly groups: ProcessLedgerFile['groups'] = [];

  constructor(private readonly dataDir: string) {
    this.save();
  }

  /** what spawnGroup needs to tag a new group and record it here as soon as it exists */
  track(what: string): GroupTracking {
    return {
      tag: this.tag,
      onStart: (pgid) => {
        this.groups.push({ pgid, what });
        this.save();
      },
    };
  }

  /** the process groups recorded so far */
  get pgids(): number[] {
    return this.groups.map((g) => g.pgid);
  }

  /**
   * Waits until nothing is left of any group recorded here (zombies included: see groupGone),
   * up to `graceMs`; then SIGKILLs what of them still carries this stack's tag and waits up to
   * `graceMs` again. Returns the groups still not gone. The stack's stop() calls it last, so
   * `dropship up` never exits while a process group it started is still there.
   */
  async finishGroups(graceMs = 5000): Promise<number[]> {
    const left = async () => (await Promise.all(this.pgids.map(async (g) => ((await waitGroupGone(g, graceMs)) ? [] : [g])))).flat();
    const lingering = await left();
    if (lingering.length === 0) return [];
    for (const g of lingering) for (const pid of taggedMembers(g, this.tag)) signalQuietly(pid, 'SIGKILL');
    return left();
  }

  /** the stack stopped what it started: nothing left to reap */
  remove(): void {
    const current = readLedger(this.dataDir);
    if (current && current.tag !== this.tag) return;
    rmSync(ledgerPath(this.dataDir), { force: true });
  }

  private save(): void {
    mkdirSync(this.dataDir, { recursive: true });
    const body: ProcessLedgerFile = { ownerPid: process.pid, ownerStartTicks: startTicks(process.pid) ?? '', tag: this.tag, groups: this.groups };
    const path = ledgerPath(this.dataDir);
    writeFileSync(`${path}.tmp`, JSON.stringify(body, null, 2) + '\n');
    renameSync(`${path}.tmp`, path);
  }
}

export function readLedger(dataDir: string): ProcessLedgerFile | undefined {
  try {
    const parsed = ledgerSchema.safeParse(JSON.parse(readFileSync(ledgerPath(dataDir), 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** the process's start time in clock ticks since boot, or undefined if it is gone */
export function startTicks(pid: number): string | undefined {
  const f = statFields(pid);
  return f?.[19];
}

/** fields of /proc/<pid>/stat after the command name: [0] state, [2] pgrp, [3] session, [19] starttime */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** the live processes in process group or session `pgid` that carry `tag` in their environment */
export function taggedMembers(pgid: number, tag: string): number[] {
  return tagged(tag, (f) => Number(f[2]) === pgid || Number(f[3]) === pgid);
}

/** every live process, whatever its group, that carries `tag` in its environment */
export function taggedProcesses(tag: string): number[] {
  return tagged(tag, () => true);
}

function tagged(tag: string, inScope: (statFields: string[]) => boolean): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const f = statFields(Number(d));
    if (!f || !inScope(f) || f[0] === 'Z') continue;
    try {
      const environ = readFileSync(`/proc/${d}/environ`, 'utf8').split('\0');
      if (environ.includes(`${WATCHDOG_TAG_ENV}=${tag}`)) out.push(Number(d));
    } catch {
      // gone, or not ours to read: either way not ours to signal
    }
  }
  return out;
}

/** sends `sig` to `pid`, if it is still there */
export function signalQuietly(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // gone meanwhile
  }
}
