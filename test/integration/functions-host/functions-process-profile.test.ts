import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CPU_PROF_ENV } from '#local/functions-host/served-spec';
import { startFunctionProcesses } from '#local/stack/function-processes';
import { TOPOLOGY } from '#shared/topology';

/**
 * DROPSHIP_FUNCTIONS_CPU_PROF=DIR: a function process stopped the way the stack stops it (SIGTERM
 * to its group, then the watchdog's own SIGTERM to it) writes its V8 CPU profile (node writes
 * it only on a normal exit; without the process's SIGTERM handler this fails). What the handler
 * being `on` rather than `once` fixed is a race this small process does not lose: after a
 * 10,000-image bench a function's profile took long enough to write that the watchdog's second
 * SIGTERM, finding no handler left, killed it first, and no profile was written.
 */
let dir: string;
const saved = process.env[CPU_PROF_ENV];
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fn-prof-'));
});
afterAll(() => {
  if (saved === undefined) delete process.env[CPU_PROF_ENV];
  else process.env[CPU_PROF_ENV] = saved;
  rmSync(dir, { recursive: true, force: true });
});

test('a function process stopped with the stack writes its CPU profile', async () => {
  const profiles = join(dir, 'profiles');
  process.env[CPU_PROF_ENV] = profiles;
  mkdirSync(join(dir, 'run'));
  const fn = TOPOLOGY.functions.find((f) => f.name === 'dead-letter-recorder')!;
  const started = await startFunctionProcesses({
    functions: [fn],
    project: 'demo-profile',
    env: { GOOGLE_CLOUD_PROJECT: 'demo-profile' },
    runDir: join(dir, 'run'),
    track: () => ({ tag: `profile-test-${process.pid}`, onStart: () => undefined }),
    onExit: () => undefined,
  });
  try {
    expect(Object.keys(started.urls)).toEqual(['dead-letter-recorder']);
  } finally {
    await started.stop();
  }
  const written = readdirSync(profiles).filter((f) => f.endsWith('.cpuprofile'));
  expect(written).toHaveLength(1);
}, 240_000); // the processes' ready wait is 180 s
