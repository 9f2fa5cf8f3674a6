import { readFileSync } from 'node:fs';
import { killGroup } from '#local/emulators/process-group';
import { isProcessAlive, readStackFileIfAny } from './stack-file';

/**
 * A stack that was killed outright (SIGKILL, a crash) leaves its emulators running in their own
 * process groups. Before starting again, stop the groups stack.json recorded, but only those
 * still led by an emulator process, so a reused pid is never signalled.
 */
export function reapStaleStack(dataDir: string): number[] {
  const info = readStackFileIfAny(dataDir);
  if (!info || isProcessAlive(info.pid)) return [];
  const reaped: number[] = [];
  for (const pgid of info.processGroups) {
    if (looksLikeEmulator(pgid)) {
      killGroup(pgid, 'SIGKILL');
      reaped.push(pgid);
    }
  }
  return reaped;
}

function looksLikeEmulator(pid: number): boolean {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return /gcloud|emulator/.test(cmd);
  } catch {
    return false;
  }
}
