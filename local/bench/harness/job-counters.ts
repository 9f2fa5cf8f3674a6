import type { Firestore } from '@google-cloud/firestore';
import { shardCounts } from '#local/cli/job-progress';

/**
 * How many results a job has, from its counter shards: what benches poll, instead of a count()
 * aggregation the Firestore emulator answers by reading every result (see shardCounts).
 */
export async function countedResults(db: Firestore, job: string): Promise<number> {
  const c = await shardCounts(db, job);
  return c.ok + c.error;
}
