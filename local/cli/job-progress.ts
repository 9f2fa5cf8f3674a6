import type { Firestore } from '@google-cloud/firestore';

export interface JobCounts {
  ok: number;
  error: number;
}

/**
 * How many results a job has, by status, counted with aggregation queries over
 * jobs/{job}/results: exact, and independent of how the pipeline keeps its own counters.
 */
export async function countResults(firestore: Firestore, job: string): Promise<JobCounts> {
  const results = firestore.collection('jobs').doc(job).collection('results');
  const [ok, error] = await Promise.all([results.where('status', '==', 'OK').count().get(), results.where('status', '==', 'ERROR').count().get()]);
  return { ok: ok.data().count, error: error.data().count };
}
