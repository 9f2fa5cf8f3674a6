import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reniceTrees } from '#local/bench/harness/renice';
import { sessionMembers, spawnGroup } from '#local/emulators/process-group';

/** nice value of a task, field 19 of /proc/<pid>/task/<tid>/stat */
const niceOf = (pid: number, tid = pid) => Number(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]);
// Zombies do not count: an orphan's zombie waits for this machine's init to reap it.
const groupAlive = (pid: number) => sessionMembers(pid).length > 0;
const childrenOf = (pid: number) =>
  readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return Number(readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);

describe('process groups and their priority (the bench keeps the endpoint model threads ahead)', () => {
  const logFile = join(mkdtempSync(join(tmpdir(), 'group-')), 'child.log');

  it('reniceTrees lowers every thread of a process group, its children included, and nothing else; stop() leaves nothing of the group', async () => {
    // A shell that starts a grandchild, as the gcloud wrappers start java.
    const group = spawnGroup('sh', ['-c', 'sleep 30 & wait'], { logFile });
    const other = spawnGroup('sleep', ['30'], { logFile });
    try {
      let kids: number[] = [];
      for (let i = 0; i < 200 && kids.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 10));
        kids = childrenOf(group.pid);
      }
      expect(kids).toHaveLength(1);
      const base = niceOf(other.pid);
      expect(base).toBeLessThan(19); // room to lower the group, or the test shows nothing
      const lower = Math.min(19, base + 5);
      const changed = reniceTrees({ pids: [], groups: [group.pid] }, lower);
      expect(changed).toBeGreaterThanOrEqual(2);
      expect([niceOf(group.pid), niceOf(kids[0]!)]).toEqual([lower, lower]);
      expect(niceOf(other.pid)).toBe(base);
      expect(niceOf(process.pid)).toBe(base);
    } finally {
      await Promise.all([group.stop(1000), other.stop(1000)]);
    }
    expect(groupAlive(group.pid)).toBe(false);
    expect(groupAlive(other.pid)).toBe(false);
  });
});
