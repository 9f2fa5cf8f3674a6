import type { Firestore } from '@google-cloud/firestore';
import { shardCounts } from '#local/cli/job-progress';

/**
 * How many results a job has, from its counter shards (see shardCounts). Benches poll this
 * instead of a count() aggregation over jobs/{job}/results: the Firestore emulator answers an
 * aggregation by reading every result (100-200 ms of its CPU over 10,000 results, measured
 * 2026-12-04), so polling twice a second took about 8 CPU-seconds of a 10,000-image job away
 * from what was being measured.
 */
export async function countedResults(db: Firestore, job: string): Promise<number> {
  const c = await shardCounts(db, job);
  return c.ok + c.error;
}
