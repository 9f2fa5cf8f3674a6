import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnGroup } from '#local/emulators/process-group';

/** nice value of a task, field 19 of /proc/<pid>/stat */
const niceOf = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]);
const groupAlive = (pid: number) => {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('spawnGroup', () => {
  const logFile = join(mkdtempSync(join(tmpdir(), 'group-')), 'child.log');

  it('runs a child at the nice value asked for, and stop() leaves nothing of its group', async () => {
    const niced = spawnGroup('sleep', ['30'], { logFile, nice: 7 });
    const plain = spawnGroup('sleep', ['30'], { logFile });
    try {
      // `nice` sets the value, then becomes sleep: read it once it has
      for (let i = 0; i < 200 && readFileSync(`/proc/${niced.pid}/comm`, 'utf8').trim() !== 'sleep'; i++) await new Promise((r) => setTimeout(r, 10));
      expect(niceOf(niced.pid)).toBe(niceOf(process.pid) + 7);
      expect(niceOf(plain.pid)).toBe(niceOf(process.pid));
    } finally {
      await Promise.all([niced.stop(1000), plain.stop(1000)]);
    }
    expect(groupAlive(niced.pid)).toBe(false);
    expect(groupAlive(plain.pid)).toBe(false);
  });
});
