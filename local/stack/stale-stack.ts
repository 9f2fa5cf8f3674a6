import { isProcessAlive, readStackFileIfAny, removeStackFile } from './stack-file';
import { ledgerPath, readLedger, signalQuietly, startTicks, taggedMembers } from './process-ledger';
import { rmSync } from 'node:fs';

const GRACE_MS = 3000;

/**
 * A stack that was killed outright normally takes its emulators with it (each group's
 * watchdog stops the group when the stack's pipe closes, local/emulators/watchdog.ts). What a
 * crashed stack may still leave behind (a watchdog killed with it, a machine under memory
 * pressure) is stopped here before a new stack starts: every process of the groups recorded in
 * <data>/processes.json that still carries that stack's tag in its environment, SIGTERM then
 * SIGKILL after a grace period. A process that merely reused a recorded pid has no tag and is
 * never signalled. Nothing is touched while the recording stack itself still runs.
 * Returns the process groups it stopped something in. Synchronous (it runs once, before
 * anything of the new stack starts, for at most GRACE_MS).
 */
export function reapStaleStack(dataDir: string): number[] {
  const ledger = readLedger(dataDir);
  const info = readStackFileIfAny(dataDir);
  if (info && !isProcessAlive(info.pid)) removeStackFile(dataDir, info.pid);
  if (!ledger) return [];
  if (startTicks(ledger.ownerPid) === ledger.ownerStartTicks) return [];
  const reaped: number[] = [];
  const victims = new Map<number, number[]>();
  for (const { pgid } of ledger.groups) {
    const members = taggedMembers(pgid, ledger.tag);
    if (members.length > 0) victims.set(pgid, members);
  }
  for (const [pgid, members] of victims) {
    reaped.push(pgid);
    for (const pid of members) signalQuietly(pid, 'SIGTERM');
  }
  const deadline = Date.now() + GRACE_MS;
  for (const [pgid] of victims) {
    while (taggedMembers(pgid, ledger.tag).length > 0 && Date.now() < deadline) sleepSync(50);
    for (const pid of taggedMembers(pgid, ledger.tag)) signalQuietly(pid, 'SIGKILL');
  }
  rmSync(ledgerPath(dataDir), { force: true });
  return reaped;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
