import type { Firestore } from '@google-cloud/firestore';

/**
 * How many results a job has, read from its counter shards (jobs/{job}/counters/{n}: ok,
 * error), which the pipeline writes in the same commit as the results they count. Benches poll
 * this instead of a count() aggregation over jobs/{job}/results: the Firestore emulator answers
 * an aggregation by reading every result (100-200 ms of its CPU over 10,000 results, measured
 * 2026-12-04), so polling twice a second took about 8 CPU-seconds of a 10,000-image job
 * away from what was being measured. The shards are at most 16 small documents, whatever the job's size.
 */
export async function countedResults(db: Firestore, job: string): Promise<number> {
  const snap = await db.collection('jobs').doc(job).collection('counters').get();
  let n = 0;
  for (const d of snap.docs) n += Number(d.get('ok') ?? 0) + Number(d.get('error') ?? 0);
  return n;
}
