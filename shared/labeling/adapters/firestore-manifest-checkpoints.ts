import type { Firestore } from '@google-cloud/firestore';
import type { ManifestCheckpoint, ManifestCheckpoints } from '../ports';

/** jobs/{job}.manifestIntake: one field merged into the job's document (one read per delivery, one write per checkpoint). */
export function firestoreManifestCheckpoints(db: Firestore): ManifestCheckpoints {
  const jobRef = (job: string) => db.collection('jobs').doc(job);
  return {
    async get(job) {
      const v = (await jobRef(job).get()).get('manifestIntake') as ManifestCheckpoint | undefined;
      return v && typeof v.key === 'string' ? v : undefined;
    },
    async put(job, checkpoint) {
      await jobRef(job).set({ manifestIntake: { ...checkpoint } }, { merge: true });
    },
  };
}
