import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sessionMembers, waitGroupGone } from '#local/emulators/process-group';

/**
 * No emulator outlives the process that started it: a parent that starts process groups with
 * spawnGroup (as the stack starts the gcloud emulators) is killed with SIGKILL, and every
 * process of every group is gone soon after, grandchildren included, and so is a grandchild
 * that moved itself into a process group of its own (what the gcloud emulator wrappers do).
 */
const REPO_ROOT = join(__dirname, '..', '..', '..');
const NODE = join(REPO_ROOT, 'node_modules', '.bin', 'node');
const hasPython = spawnSync('python3', ['-c', 'pass']).status === 0;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'watchdog-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function startParent(commands: string[][]): Promise<{ parent: ReturnType<typeof spawn>; groups: number[] }> {
  const parent = spawn(NODE, ['--conditions=source', '--import', 'tsx', join(REPO_ROOT, 'test/support/spawn-groups-then-wait.ts'), join(dir, 'log'), ...commands.map((c) => JSON.stringify(c))], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  const groups = await new Promise<number[]>((resolve, reject) => {
    let out = '';
    parent.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]!) as number[]);
    });
    parent.on('exit', (code) => reject(new Error(`parent exited ${code}`)));
  });
  return { parent, groups };
}

/** alive and not a zombie (an orphan's zombie waits for this machine's init to reap it) */
function isLive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function waitForMembers(id: number, n: number): Promise<number[]> {
  for (let i = 0; i < 300; i++) {
    const m = sessionMembers(id);
    if (m.length >= n) return m;
    await new Promise((r) => setTimeout(r, 20));
  }
  return sessionMembers(id);
}

test('SIGKILL of the parent: the watchdog stops its whole session, grandchildren and re-grouped children included', async () => {
  const commands = [['sh', '-c', 'sleep 300 & wait']];
  if (hasPython) commands.push(['python3', '-c', 'import os, subprocess; os.setpgid(0, 0); subprocess.run(["sleep", "300"])']);
  const { parent, groups } = await startParent(commands);
  // watchdog + sh + sleep; watchdog + python + sleep
  const before = await Promise.all(groups.map((g) => waitForMembers(g, 3)));
  for (const m of before) expect(m.length).toBeGreaterThanOrEqual(3);
  if (hasPython) {
    const regrouped = before[1]!.filter((pid) => pid !== groups[1]);
    expect(regrouped.length).toBeGreaterThan(0); // moved out of the watchdog's group, still in its session
  }
  parent.kill('SIGKILL');
  const gone = await Promise.all(groups.map((g) => waitGroupGone(g, 15_000)));
  expect(gone).toEqual(groups.map(() => true));
  expect(before.flat().filter(isLive)).toEqual([]);
});
