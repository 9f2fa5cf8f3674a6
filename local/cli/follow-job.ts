import type { Firestore } from '@google-cloud/firestore';
import { SingleBar, Presets } from 'cli-progress';
import { CommandFailed } from './cli-errors';
import { countResults, shardCounts, type JobCounts } from './job-progress';

const POLL_MS = 1000;

/**
 * Follows a job until it holds `expected` results, with a progress bar on a terminal and a line
 * every few seconds otherwise. Resolves with the counts; times out as a failure. Progress is
 * polled from the job's counter shards; once they reach `expected` the results are counted
 * exactly (countResults), and that count is what it resolves with.
 */
export async function followJob(firestore: Firestore, job: string, expected: number, opts: { timeoutMs: number; quiet?: boolean }): Promise<JobCounts> {
  const started = Date.now();
  const bar =
    process.stderr.isTTY && !opts.quiet ? new SingleBar({ format: `job ${job} [{bar}] {value}/{total} | {ok} OK, {error} ERROR | {rate}/s`, hideCursor: true }, Presets.shades_classic) : undefined;
  bar?.start(expected, 0, { ok: 0, error: 0, rate: '0.0' });
  let lastLine = 0;
  try {
    for (;;) {
      let counts = await shardCounts(firestore, job);
      // the shards say done: the exact count of the results decides
      if (counts.ok + counts.error >= expected) counts = await countResults(firestore, job);
      const done = counts.ok + counts.error;
      const seconds = (Date.now() - started) / 1000;
      bar?.update(done, { ...counts, rate: (done / Math.max(seconds, 0.001)).toFixed(1) });
      if (!bar && !opts.quiet && (Date.now() - lastLine > 5000 || done >= expected)) {
        process.stderr.write(`job ${job}: ${done}/${expected} (${counts.ok} OK, ${counts.error} ERROR) after ${seconds.toFixed(0)} s\n`);
        lastLine = Date.now();
      }
      if (done >= expected) return counts;
      if (Date.now() - started > opts.timeoutMs) {
        throw new CommandFailed(`job ${job} has ${done} of ${expected} results after ${Math.round(opts.timeoutMs / 1000)} s; follow it with \`dropship results ${job} --follow\``);
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  } finally {
    bar?.stop();
  }
}
