/**
 * How fast the quick commands answer, as a user runs them: `bin/dropship --help`, `status` and
 * `results <job>` against a running local stack, each run to completion (output discarded),
 * interleaved round by round so a change in the machine's load hits every command alike.
 * Prints the median, min and max wall time and the median CPU time (the command's processes'
 * user+sys, which load inflates less than wall time) and the load average before and after.
 *
 *   npx dropship up --demo                      (in another terminal; the demo makes a job)
 *   node_modules/.bin/node --conditions=source --import tsx local/bench/cli-startup.ts [--runs 5] [--data DIR] [--job J]
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { restReader } from '#local/cli/firestore-rest-reader';
import { resolveDataDir } from '#local/stack/data-dir';
import { findRunningStack } from '#local/stack/stack-file';
import { DROPSHIP, localEnv, REPO_ROOT } from './harness/dropship-up';

/** user+sys seconds of this process's waited-for children so far (/proc/self/stat cutime + cstime, in clock ticks of 1/100 s) */
function childCpuSeconds(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8')
    .replace(/^.*\) /, '')
    .split(' ');
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { runs: { type: 'string', default: '5' }, data: { type: 'string' }, job: { type: 'string' } } });
  const dataDir = resolveDataDir(values.data);
  const stack = await findRunningStack(dataDir);
  const job =
    values.job ??
    (await restReader({ baseUrl: `http://${stack.firestoreEmulatorHost}`, project: stack.project, headers: async () => ({ authorization: 'Bearer owner' }) }).listIds('jobs')).sort().pop();
  if (!job) throw new Error('no job on this stack to read results of: run `dropship up --demo` or `dropship label`, or pass --job');
  const commands = [['--help'], ['status'], ['results', job]];
  const env = { ...localEnv(), DROPSHIP_DATA: dataDir };
  const run = (args: string[]) => {
    const cpu0 = childCpuSeconds();
    const t0 = process.hrtime.bigint();
    const r = spawnSync(DROPSHIP, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.status !== 0) throw new Error(`dropship ${args.join(' ')} exited ${r.status}: ${r.stderr.toString()}`);
    return { wall, cpu: childCpuSeconds() - cpu0 };
  };
  // once each first: the bundle (re)build and the compile cache are not what a user waits for on every call
  for (const c of commands) run(c);
  const load0 = loadavg();
  const runs = Number(values.runs);
  const times = commands.map(() => ({ wall: [] as number[], cpu: [] as number[] }));
  for (let i = 0; i < runs; i++) {
    commands.forEach((c, k) => {
      const t = run(c);
      times[k]!.wall.push(t.wall);
      times[k]!.cpu.push(t.cpu);
    });
  }
  const load1 = loadavg();
  process.stdout.write(`bin/dropship start-up, ${runs} runs each, local stack ${dataDir}, job ${job}\n`);
  process.stdout.write(`load average (1 min) ${load0[0]!.toFixed(2)} before, ${load1[0]!.toFixed(2)} after\n`);
  commands.forEach((c, k) => {
    const { wall, cpu } = times[k]!;
    process.stdout.write(
      `  dropship ${c.join(' ').padEnd(28)} median ${median(wall).toFixed(3)} s (min ${Math.min(...wall).toFixed(3)}, max ${Math.max(...wall).toFixed(3)}), CPU ${median(cpu).toFixed(2)} s\n`,
    );
  });
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`cli-startup: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
