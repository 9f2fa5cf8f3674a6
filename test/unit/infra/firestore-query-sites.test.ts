import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO_ROOT } from './source-scan';

/**
 * The recorder in test/integration/infra/google-cloud-rules.test.ts checks the queries its
 * scenario sends; a query on a path the scenario does not drive would go unchecked. So every
 * filtered, ordered, collection-group or aggregation query in code that runs against a real
 * project (functions/, shared/, the CLI) is listed here with the step of the scenario that
 * sends it, and a new one fails this test until it is driven there too.
 */
const DRIVEN: Record<string, string> = {
  "shared/deployment/adapters/firestore-version-store.ts: db.collectionGroup('versions').where('state', 'in', [...RECONCILED]).get(),": 'every reconciler tick',
  "shared/deployment/adapters/firestore-version-store.ts: db.collectionGroup('versions').where('operation.kind', '==', 'undeploy').get(),": 'every reconciler tick',
  "shared/labeling/adapters/firestore-model-endpoints.ts: const deployed = await doc.collection('versions').where('state', '==', 'DEPLOYED').select('spec').get();":
    'predict-worker, and endpointOf after the deploy',
  "local/cli/job-progress.ts: const [ok, error] = await Promise.all([results.where('status', '==', 'OK').count().get(), results.where('status', '==', 'ERROR').count().get()]);":
    'countResults / followJob',
  // Driven by test/integration/deployment/safe-rollout.test.ts (the canary analysis), not yet by the recorded
  // scenario; its composite index is checked in firestore-indexes.test.ts.
  "shared/deployment/adapters/firestore-results-reader.ts: const snap = await db.collectionGroup('results').where('deployedModelId', '==', deployedModelId).where('createdAt', '>=', Timestamp.fromDate(since)).limit(limit).get();":
    'canary analysis (safe-rollout.test.ts)',
  // The batch route: driven by test/integration/labeling/batch-route.test.ts, not yet by the recorded scenario.
  // Both are single-field filters on one collection (automatic indexes).
  "shared/labeling/adapters/firestore-batch-chunks.ts: const snap = await db.collection('batchChunks').where('state', 'in', ['PREPARED', 'SUBMITTED']).get();":
    'batch follower tick (batch-route.test.ts)',
  "shared/labeling/adapters/firestore-batch-chunks.ts: const deployed = await doc.collection('versions').where('state', '==', 'DEPLOYED').get();":
    'batch follower submitting a chunk (batch-route.test.ts)',
};

const QUERY_CALL = /\.(where|orderBy|collectionGroup|count|aggregate|findNearest|limitToLast|startAt|startAfter|endAt|endBefore|offset)\(/;

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) return tsFiles(full);
    return name.endsWith('.ts') ? [full] : [];
  });
}

it('every Firestore query with filters, orders or aggregations on a real-project path is driven by the recorded scenario', () => {
  const sites = ['functions', 'shared', join('local', 'cli')].flatMap((d) =>
    tsFiles(join(REPO_ROOT, d)).flatMap((file) =>
      readFileSync(file, 'utf8')
        // a method chain the formatter wraps is one site: `db\n  .collectionGroup(..)\n  .where(..)`
        .replace(/\n\s*\./g, '.')
        .split('\n')
        .filter((line) => QUERY_CALL.test(line) && !/^\s*(\/\/|\*)/.test(line))
        .map((line) => `${relative(REPO_ROOT, file).split('\\').join('/')}: ${line.trim()}`),
    ),
  );
  const unknown = sites.filter((s) => !(s in DRIVEN));
  expect(unknown.map((s) => `${s}  <- new query: drive it in test/integration/infra/google-cloud-rules.test.ts (so its index is checked), then list it here`)).toEqual([]);
  // a listed site that no longer exists is stale: keep the list honest
  expect(Object.keys(DRIVEN).filter((s) => !sites.includes(s))).toEqual([]);
});
