import { Timestamp, type Firestore } from '@google-cloud/firestore';
import type { ResultSample, ResultsReader } from '../ports';

/**
 * Labeling results (jobs/{job}/results/{id}, written by the predict workers) of one deployed
 * model since a time, across jobs. A collection-group query on deployedModelId and createdAt:
 * terraform/firestore.tf declares its composite index.
 */
export function firestoreResultsReader(db: Firestore): ResultsReader {
  return {
    async resultsOf(deployedModelId, since, limit) {
      const snap = await db.collectionGroup('results').where('deployedModelId', '==', deployedModelId).where('createdAt', '>=', Timestamp.fromDate(since)).limit(limit).get();
      return snap.docs.map((d): ResultSample => {
        const r = d.data();
        return {
          deployedModelId,
          status: r.status === 'OK' ? 'OK' : 'ERROR',
          label: typeof r.label === 'string' ? r.label : null,
          confidence: typeof r.confidence === 'number' ? r.confidence : null,
          latencyMs: typeof r.latencyMs === 'number' ? r.latencyMs : null,
        };
      });
    },
  };
}
