import { firestoreModelEndpoints } from '#shared/labeling/adapters/firestore-model-endpoints';
import type { VersionRecord } from '#shared/deployment/core/records';
import { readStatus } from '#local/cli/status';
import { followResults, readResults } from '#local/cli/results';
import { countResults } from '#local/cli/job-progress';
import { followJob } from '#local/cli/follow-job';
import { encodeDigit, heldOutDigits } from '#local/model-build/mnist-digits';
import { startFirestoreQueryRecorder, type FirestoreQueryRecorder } from '../../support/firestore-query-recorder';
import { cloudRunLogEntry, type LogEntry } from '../../support/cloud-logging/log-entry';
import { extractLabel } from '../../support/cloud-logging/label-extractor';
import { matchesLoggingQuery } from '../../support/cloud-logging/logging-query';
import { declaredIndexes } from '../../unit/infra/firestore-declared-indexes';
import { checkQuery, describe as describeNeed, indexNeeds } from '../../unit/infra/firestore-index-rules';
import { functionServices, logMetrics, type LogMetric } from '../../unit/infra/log-metrics';
import { loadTerraform, type TerraformConfig } from '../../unit/infra/terraform-config';
import { demoModelFiles, startDeploymentStack, type DeploymentStack } from '../deployment/deployment-stack';
import { IMAGES_BUCKET, PipelineHarness } from '../labeling/pipeline-harness';

jest.setTimeout(180_000);

/**
 * What the emulators forgive and Google Cloud does not, checked on the real code paths: every
 * query the functions and the CLI send (recorded on the wire between the real Firestore client
 * and the emulator) must be served by an index terraform declares, and every log-based metric
 * terraform defines must count exactly the lines its scenario writes (a version failed by the
 * stuck rule; OK and ERROR results, with duplicate deliveries).
 */
const PROJECT = 'my-project';
let cfg: TerraformConfig;
let recorder: FirestoreQueryRecorder;
let services: Record<string, string>;
const entries: Array<{ phase: 'deployment' | 'labeling'; entry: LogEntry }> = [];
let phase: 'deployment' | 'labeling' = 'deployment';
const savedEnv = { ...process.env };
let restoreStdout: () => void = () => undefined;

/** Lines the functions write to stdout become the LogEntries Cloud Logging would store. */
function captureFunctionLogs(): () => void {
  const write = process.stdout.write.bind(process.stdout);
  let partial = '';
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    partial += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    const lines = partial.split('\n');
    partial = lines.pop()!;
    const passOn: string[] = [];
    for (const line of lines) {
      let component: unknown;
      try {
        component = (JSON.parse(line) as { component?: unknown }).component;
      } catch {
        component = undefined;
      }
      // Each function runs as its own Cloud Run service; other lines (emulators, the test) do not exist on Google Cloud.
      if (typeof component === 'string' && services[component]) entries.push({ phase, entry: cloudRunLogEntry(line, { project: PROJECT, service: services[component]! }) });
      else passOn.push(line);
    }
    return passOn.length ? write(passOn.map((l) => l + '\n').join(''), ...(rest as [])) : true;
  }) as typeof process.stdout.write;
  return () => {
    process.stdout.write = write;
  };
}

// Facts read from Firestore at the end of each phase: what each metric should have counted.
let stuckVersions: Array<{ model: string; state: string }> = [];
const storedResults: Array<{ id: string; status: string }> = [];
const cliSaw: Record<string, unknown> = {};

beforeAll(async () => {
  cfg = await loadTerraform();
  services = functionServices(cfg);
  recorder = await startFirestoreQueryRecorder(process.env.FIRESTORE_EMULATOR_HOST!);
  process.env.FIRESTORE_EMULATOR_HOST = recorder.hostPort;
  process.env.LOG_LEVEL = 'DEBUG'; // every line the functions can write, so the filters must reject the rest
  process.env.STUCK_AFTER_MINUTES = '1';
  restoreStdout = captureFunctionLogs();
  try {
    await deploymentPhase();
    phase = 'labeling';
    await labelingPhase();
  } finally {
    restoreStdout();
  }
}, 170_000);

afterAll(async () => {
  restoreStdout();
  await recorder?.close();
  process.env = savedEnv;
});

async function deploymentPhase(): Promise<void> {
  const stack: DeploymentStack = await startDeploymentStack({ lroDelayMs: 200 });
  try {
    stack.startTicking(300);
    await stack.upload('digits', 'v1', demoModelFiles());
    await stack.waitForState('digits', 'v1', ['DEPLOYED']);

    // A deploy that never finishes, whose last transition is then ten minutes old (the stuck limit is one).
    stack.vertexEmulator.setFaults({ operationDelayMs: { deployModel: 3_600_000 } });
    await stack.upload('never-ready', 'v1', demoModelFiles());
    const deploying = await stack.waitForState('never-ready', 'v1', ['DEPLOYING']);
    stack.stopTicking();
    const ref = stack.firestore.doc('models/never-ready/versions/v1');
    await stack.firestore.runTransaction(async (tx) => {
      const v = (await tx.get(ref)).data() as VersionRecord;
      const history = v.history.map((h, i) => (i === v.history.length - 1 ? { ...h, at: new Date(Date.parse(h.at) - 10 * 60_000).toISOString() } : h));
      tx.update(ref, { history });
    });
    stack.startTicking(300);
    const failed = await stack.waitForState('never-ready', 'v1', ['FAILED']);
    expect(failed.error).toContain(deploying.operation!.name);
    stack.stopTicking();

    // What the predict-worker reads, and what `dropship status` reads.
    cliSaw.endpoint = await firestoreModelEndpoints(stack.firestore).endpointOf('digits');
    const status = await readStatus(stack.firestore);
    cliSaw.status = status.map((m) => m.model);
    await readStatus(stack.firestore, 'digits');
    stuckVersions = status.flatMap((m) => m.versions.flatMap((v) => v.history.filter((h) => h.to === 'FAILED' && /^stuck in /.test(h.reason ?? '')).map((h) => ({ model: m.model, state: h.from! }))));
  } finally {
    await stack.stop();
  }
}

async function labelingPhase(): Promise<void> {
  const h = new PipelineHarness();
  await h.start({ LOG_LEVEL: 'DEBUG', PUBLISH_LEASE_MS: '5000' });
  try {
    const digits = heldOutDigits();
    const good = await Promise.all([0, 1, 2].map((i) => encodeDigit(digits[3 * i]!.pixels, 'png')));
    await h.duplicateRequests(async () => {
      await h.uploadAll([
        ...good.map((bytes, i) => ({ name: `folder/good-${i}.png`, bytes })),
        { name: 'folder/zero.jpg', bytes: Buffer.alloc(0) },
        { name: 'folder/notes.jpg', bytes: Buffer.from('not a photo\n') },
      ]);
      await h.upload('listed/_manifest.txt', Buffer.from([`gs://${IMAGES_BUCKET}/folder/good-0.png`, 'http://example.com/cat.jpg'].join('\n')));
      await h.waitFor('5 results in folder', async () => (await h.resultCount('folder')) >= 5, 60_000);
      await h.waitFor('listed to complete', async () => (await h.db.doc('jobs/listed').get()).get('state') === 'COMPLETED', 60_000);
    });
    await h.settle(1000);

    // What `dropship results` reads: the table, the counts, --follow, and label --wait.
    const rows = await readResults(h.db, 'folder');
    cliSaw.results = rows.length;
    cliSaw.counts = await countResults(h.db, 'folder');
    const followed: string[] = [];
    await followResults(h.db, 'listed', (r) => followed.push(String(r.id)));
    cliSaw.followed = followed.length;
    await followJob(h.db, 'folder', 5, { timeoutMs: 10_000, quiet: true });

    for (const job of ['folder', 'listed']) {
      const snap = await h.db.collection(`jobs/${job}/results`).get();
      storedResults.push(...snap.docs.map((d) => ({ id: d.id, status: String(d.get('status')) })));
    }
  } finally {
    await h.stop();
  }
}

describe('every query the functions and the CLI send is served by an index terraform declares', () => {
  it('the scenario ran: a deploy, a stuck version, labeled images, and the CLI reading them', () => {
    expect(cliSaw).toMatchObject({ status: ['digits', 'never-ready'], results: 5, counts: { ok: 3, error: 2 }, followed: 2 });
    expect(cliSaw.endpoint).toMatchObject({ endpoint: expect.stringContaining('/endpoints/') });
    expect(recorder.errors).toEqual([]);
  });

  it('the recorder saw the queries that need more than Firestore keeps by itself', () => {
    const seen = new Set(recorder.queries.flatMap((q) => indexNeeds(q.structuredQuery).map(describeNeed)));
    expect([...seen]).toEqual(
      expect.arrayContaining([
        "collectionGroup('versions') [state ==]",
        "collectionGroup('versions') [operation.kind ==]",
        "collection('versions') [state ==]",
        "collection('results') [status ==]",
        "collection('results')",
      ]),
    );
    expect(new Set(recorder.queries.map((q) => q.method))).toEqual(new Set(['RunQuery', 'RunAggregationQuery', 'Listen']));
  });

  it('each recorded query is served by the declared indexes, under Firestore index rules', () => {
    const declared = declaredIndexes(cfg);
    const problems = new Set(recorder.queries.flatMap((q) => checkQuery(q.structuredQuery, declared).problems.map((p) => `${q.method}: ${p}`)));
    expect([...problems]).toEqual([]);
  });

  it('without the collection-group field overrides, the recorded reconciler queries would fail (the check has teeth)', () => {
    const declared = declaredIndexes(cfg);
    const withoutGroup = { ...declared, overrides: declared.overrides.map((o) => ({ ...o, indexes: o.indexes?.filter((i) => i.scope !== 'COLLECTION_GROUP') })) };
    const failing = new Set(recorder.queries.flatMap((q) => checkQuery(q.structuredQuery, withoutGroup).problems.map((p) => p.split(':')[0])));
    expect([...failing].sort()).toEqual(["no declared index serves collectionGroup('versions') [operation.kind ==]", "no declared index serves collectionGroup('versions') [state ==]"]);
  });
});

describe('every log-based metric counts exactly the lines meant for it', () => {
  let metrics: Record<string, LogMetric>;
  beforeAll(() => {
    metrics = Object.fromEntries(logMetrics(cfg).map((m) => [m.resource, m]));
  });
  const matched = (m: LogMetric) => entries.filter((e) => matchesLoggingQuery(m.filter, e.entry));
  const labels = (m: LogMetric, e: LogEntry) => Object.fromEntries(Object.entries(m.extractors).map(([k, x]) => [k, extractLabel(x, e)]));

  it('the functions wrote lines of every severity, from every function that ran', () => {
    const byService = new Set(entries.map((e) => e.entry.resource.labels.service_name));
    expect([...byService]).toEqual(expect.arrayContaining(['dropship-image-intake', 'dropship-model-drop', 'dropship-predict-worker', 'dropship-reconciler']));
    expect(new Set(entries.map((e) => e.entry.severity))).toEqual(new Set(['DEBUG', 'INFO', 'NOTICE', 'WARNING', 'ERROR']));
    expect(entries.length).toBeGreaterThan(20);
  });

  it('deployments-stuck: one point per version the stuck rule failed, labeled with its model and the state it was stuck in', () => {
    expect(stuckVersions).toEqual([{ model: 'never-ready', state: 'DEPLOYING' }]);
    const hits = matched(metrics.deployments_stuck!);
    expect(hits.map((e) => ({ phase: e.phase, service: e.entry.resource.labels.service_name, ...labels(metrics.deployments_stuck!, e.entry) }))).toEqual(
      stuckVersions.map((v) => ({ phase: 'deployment', service: 'dropship-reconciler', ...v })),
    );
  });

  it('results: one point per stored result, labeled OK or ERROR, however often its request was delivered', () => {
    expect(storedResults.length).toBe(7);
    const hits = matched(metrics.results!);
    expect(hits.every((e) => e.phase === 'labeling')).toBe(true);
    const counted = hits.map((e) => ({ id: String(e.entry.jsonPayload?.resultId), status: labels(metrics.results!, e.entry).status }));
    const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
    expect(counted.sort(byId)).toEqual([...storedResults].sort(byId));
    expect(storedResults.filter((r) => r.status === 'ERROR')).toHaveLength(3);
    // ERROR results are ERROR lines (Error Reporting and severity filters see them), OK ones INFO
    expect(new Set(hits.map((e) => `${labels(metrics.results!, e.entry).status}:${e.entry.severity}`))).toEqual(new Set(['OK:INFO', 'ERROR:ERROR']));
  });
});
