import { encodeDigit, heldOutDigits } from '#local/model-build/mnist-digits';
import { BatchHarness, jsonLines } from './batch-harness';
import { DEMO_MODEL_DIR, uploadModel } from './harness';

/**
 * JobService's batch prediction jobs with the official Node client: the model run for real
 * (ONNX Runtime, the demo model) on jsonl and file-list input from the Storage emulator, output
 * files in Vertex AI's line shapes uploaded back to it, the job's states, stats, cancel, delete,
 * list, and a job surviving an emulator restart.
 */
describe('Vertex AI emulator: batch prediction jobs (JobService)', () => {
  let h: BatchHarness;
  let model: string;
  const BUCKET = 'batch-in';
  const digits = heldOutDigits().filter((_, i) => i % 75 === 0); // 20 digits, two of each label
  let pngs: Buffer[];

  beforeAll(async () => {
    h = await BatchHarness.start({ restPort: 0 });
    await h.createBucket(BUCKET);
    pngs = await Promise.all(digits.map((d) => encodeDigit(d.pixels, 'png')));
    ({ model } = await uploadModel(h.clients, { parent: h.parent, artifactUri: DEMO_MODEL_DIR, versionAliases: ['batchy'] }));
  });
  afterAll(async () => {
    await h?.close();
  });

  const jobRequest = (over: Record<string, unknown> = {}) => ({
    parent: h.parent,
    batchPredictionJob: {
      displayName: 'digits',
      model: `${model}@batchy`,
      inputConfig: { instancesFormat: 'jsonl', gcsSource: { uris: [`gs://${BUCKET}/in/*.jsonl`] } },
      instanceConfig: { keyField: 'image' },
      outputConfig: { predictionsFormat: 'jsonl', gcsDestination: { outputUriPrefix: `gs://${BUCKET}/out` } },
      dedicatedResources: { machineSpec: { machineType: 'n1-standard-4' }, startingReplicaCount: 1, maxReplicaCount: 2 },
      manualBatchTuningParameters: { batchSize: 8 },
      labels: { job: 'j1' },
      ...over,
    },
  });

  it('runs a jsonl job keyed by keyField through QUEUED, PENDING, RUNNING to SUCCEEDED, writing predictions and errors in Vertex AI line shapes', async () => {
    const lines = pngs.map((p, i) => JSON.stringify({ image: `img-${i}`, string_input: { b64: p.toString('base64') }, note: 'dropped' }));
    await h.put(BUCKET, 'in/part-1.jsonl', `${lines.slice(0, 12).join('\n')}\n`);
    await h.put(
      BUCKET,
      'in/part-2.jsonl',
      `${lines.slice(12).join('\n')}\n${JSON.stringify({ image: 'not-an-image', string_input: { b64: Buffer.from('hello').toString('base64') } })}\n${JSON.stringify({ string_input: { b64: 'AAAA' } })}\n`,
    );
    await h.put(BUCKET, 'in/ignored.txt', 'not matched by the wildcard');

    const [created] = await h.jobs.createBatchPredictionJob(jobRequest({ instanceConfig: { keyField: 'image', excludedFields: ['note'] } }));
    expect(created.state).toBe('JOB_STATE_QUEUED');
    expect(created.name).toMatch(new RegExp(`^${h.parent}/batchPredictionJobs/\\d+$`));
    expect(created.modelVersionId).toBe('1');
    const seen: string[] = [];
    const job = await h.waitFor(created.name!, ['JOB_STATE_SUCCEEDED', 'JOB_STATE_FAILED'], seen);
    expect(job.error?.message ?? '').toBe('');
    expect(seen.at(-1)).toBe('JOB_STATE_SUCCEEDED');
    // Polling can miss a short stage, never reorder them.
    const order = ['JOB_STATE_QUEUED', 'JOB_STATE_PENDING', 'JOB_STATE_RUNNING', 'JOB_STATE_SUCCEEDED'];
    expect(seen.map((s) => order.indexOf(s))).toEqual([...seen.map((s) => order.indexOf(s))].sort());
    expect(job.completionStats).toMatchObject({ successfulCount: '20', failedCount: '2', incompleteCount: '0' });
    // timestamps in order: created, started, ended (each a real time, not an empty placeholder)
    const seconds = (t: { seconds?: unknown } | null | undefined) => Number(t?.seconds ?? Number.NaN);
    expect(job.startTime).toBeTruthy();
    expect(job.endTime).toBeTruthy();
    expect(seconds(job.createTime)).toBeGreaterThan(Date.parse('2020-01-01') / 1000);
    expect(seconds(job.startTime)).toBeGreaterThanOrEqual(seconds(job.createTime));
    expect(seconds(job.endTime)).toBeGreaterThanOrEqual(seconds(job.startTime));
    expect(job.labels).toEqual({ job: 'j1' });
    expect(job.dedicatedResources?.machineSpec?.machineType).toBe('n1-standard-4');
    expect(job.manualBatchTuningParameters?.batchSize).toBe(8);

    const dir = job.outputInfo?.gcsOutputDirectory ?? '';
    expect(dir).toMatch(new RegExp(`^gs://${BUCKET}/out/prediction-mnist-vit-\\d{4}_\\d\\d_\\d\\dT\\d\\d_\\d\\d_\\d\\d_\\d{3}Z$`));
    const prefix = dir.slice(`gs://${BUCKET}/`.length);
    expect(await h.list(BUCKET, `${prefix}/`)).toEqual([`${prefix}/errors_00001.jsonl`, `${prefix}/predictions_00001.jsonl`]);

    const predictions = jsonLines(await h.get(BUCKET, `${prefix}/predictions_00001.jsonl`));
    expect(predictions.map((p) => p.key)).toEqual(digits.map((_, i) => `img-${i}`));
    for (const p of predictions) {
      expect(Object.keys(p).sort()).toEqual(['key', 'prediction']);
      expect(p.prediction.label).toMatch(/^[0-9]$/);
      expect(p.prediction.confidence).toBeGreaterThan(0);
    }
    const correct = predictions.filter((p, i) => p.prediction.label === String(digits[i]!.label)).length;
    expect(correct).toBeGreaterThanOrEqual(18);

    const errors = jsonLines(await h.get(BUCKET, `${prefix}/errors_00001.jsonl`));
    expect(errors).toEqual([
      { key: 'not-an-image', error: { code: 3, message: expect.stringContaining('cannot be decoded') } },
      { instance: { string_input: { b64: 'AAAA' } }, error: { code: 3, message: 'The instance has no key field "image".' } },
    ]);
  });

  it('runs file-list input (each gs:// line sent as {"b64": ...}) on a version named by id, echoing the instance', async () => {
    const uris = [];
    for (let i = 0; i < 3; i++) uris.push(await h.put(BUCKET, `files/d${i}.png`, pngs[i]!));
    await h.put(BUCKET, 'lists/one.txt', `${uris.join('\n')}\ngs://${BUCKET}/files/missing.png\n`);
    const [created] = await h.jobs.createBatchPredictionJob(
      jobRequest({ model: `${model}@1`, inputConfig: { instancesFormat: 'file-list', gcsSource: { uris: [`gs://${BUCKET}/lists/one.txt`] } }, instanceConfig: {} }),
    );
    const job = await h.waitFor(created.name!, ['JOB_STATE_SUCCEEDED', 'JOB_STATE_FAILED']);
    expect(job.state).toBe('JOB_STATE_SUCCEEDED');
    expect(job.completionStats).toMatchObject({ successfulCount: '3', failedCount: '1' });
    const prefix = job.outputInfo!.gcsOutputDirectory!.slice(`gs://${BUCKET}/`.length);
    const predictions = jsonLines(await h.get(BUCKET, `${prefix}/predictions_00001.jsonl`));
    expect(predictions.map((p) => p.instance.b64)).toEqual(pngs.slice(0, 3).map((p) => p.toString('base64')));
    const errors = jsonLines(await h.get(BUCKET, `${prefix}/errors_00001.jsonl`));
    expect(errors).toEqual([{ instance: `gs://${BUCKET}/files/missing.png`, error: { code: 5, message: expect.stringContaining('could not be read') } }]);
  });

  it('refuses what Vertex AI refuses, with the field named', async () => {
    const refused = async (over: Record<string, unknown>) => {
      const err = await h.jobs.createBatchPredictionJob(jobRequest(over)).catch((e: { code: number; details: string }) => e);
      return err as { code: number; details: string };
    };
    expect(await refused({ instanceConfig: { includedFields: ['a'], excludedFields: ['b'] } })).toMatchObject({ code: 3, details: expect.stringContaining('not both') });
    expect(await refused({ inputConfig: { instancesFormat: 'csv', gcsSource: { uris: ['gs://batch-in/x.csv'] } } })).toMatchObject({ code: 3, details: expect.stringContaining('csv') });
    expect(await refused({ outputConfig: { predictionsFormat: 'jsonl' } })).toMatchObject({ code: 3, details: expect.stringContaining('outputUriPrefix') });
    expect(await refused({ model: `${model}@nope` })).toMatchObject({ code: 5, details: expect.stringContaining('alias "nope"') });
    expect(await refused({ displayName: '' })).toMatchObject({ code: 3, details: expect.stringContaining('displayName') });
  });

  it('fails a job whose input matches nothing, with a partial failure per URI', async () => {
    const [created] = await h.jobs.createBatchPredictionJob(jobRequest({ inputConfig: { instancesFormat: 'jsonl', gcsSource: { uris: [`gs://${BUCKET}/nothing/*.jsonl`] } } }));
    const job = await h.waitFor(created.name!, ['JOB_STATE_SUCCEEDED', 'JOB_STATE_FAILED']);
    expect(job.state).toBe('JOB_STATE_FAILED');
    expect(job.error?.message).toContain('No input could be read');
    expect(job.partialFailures).toEqual([expect.objectContaining({ code: 5, message: `No files match gs://${BUCKET}/nothing/*.jsonl.` })]);
  });

  it('cancels a queued job, refuses to cancel a finished one or delete an unfinished one, deletes a finished one (an operation), lists by state', async () => {
    const [queued] = await h.jobs.createBatchPredictionJob(jobRequest({ displayName: 'to-cancel' }));
    await expect(h.jobs.deleteBatchPredictionJob({ name: queued.name! })).rejects.toMatchObject({ code: 9 });
    await h.jobs.cancelBatchPredictionJob({ name: queued.name! });
    const cancelled = await h.waitFor(queued.name!, ['JOB_STATE_CANCELLED']);
    expect(cancelled.error?.code).toBe(1);
    await expect(h.jobs.cancelBatchPredictionJob({ name: queued.name! })).rejects.toMatchObject({ code: 9 });

    const [onlyCancelled] = await h.jobs.listBatchPredictionJobs({ parent: h.parent, filter: 'state="JOB_STATE_CANCELLED"' });
    expect(onlyCancelled.map((j) => j.name)).toEqual([queued.name]);
    const [byName] = await h.jobs.listBatchPredictionJobs({ parent: h.parent, filter: 'display_name="to-cancel"' });
    expect(byName).toHaveLength(1);
    const [all] = await h.jobs.listBatchPredictionJobs({ parent: h.parent });
    expect(all.length).toBeGreaterThanOrEqual(4);

    const [op] = await h.jobs.deleteBatchPredictionJob({ name: queued.name! });
    await op.promise();
    await expect(h.jobs.getBatchPredictionJob({ name: queued.name! })).rejects.toMatchObject({ code: 5 });
  });

  it("is the same job over REST (routes from the protos' http rules): create, get, list, :cancel", async () => {
    const base = `http://127.0.0.1:${h.vertex.restPort}/v1`;
    const body = jobRequest().batchPredictionJob;
    const created = await fetch(`${base}/${h.parent}/batchPredictionJobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(created.status).toBe(200);
    const job = (await created.json()) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(job).toMatchObject({ state: 'JOB_STATE_QUEUED', displayName: 'digits', manualBatchTuningParameters: { batchSize: 8 } });
    const got = (await (await fetch(`${base}/${job.name}`)).json()) as Record<string, unknown>;
    expect(got.name).toBe(job.name);
    const listed = (await (await fetch(`${base}/${h.parent}/batchPredictionJobs?pageSize=1`)).json()) as { batchPredictionJobs: unknown[]; nextPageToken: string };
    expect(listed.batchPredictionJobs).toHaveLength(1);
    expect(listed.nextPageToken).not.toBe('');
    const cancel = await fetch(`${base}/${job.name}:cancel`, { method: 'POST' });
    expect(cancel.status).toBe(200);
    await h.waitFor(job.name, ['JOB_STATE_CANCELLED', 'JOB_STATE_SUCCEEDED']);
  });

  // No gcloud check: the Google Cloud CLI (528 here) has no batch prediction commands;
  // `gcloud ai batch-prediction-jobs` answers "Invalid choice".

  it('keeps jobs across a restart: a job queued when the emulator stops runs to SUCCEEDED after it starts again', async () => {
    const [created] = await h.jobs.createBatchPredictionJob(jobRequest({ displayName: 'survivor' }));
    await h.stopVertex();
    await h.startVertex(0);
    const job = await h.waitFor(created.name!, ['JOB_STATE_SUCCEEDED', 'JOB_STATE_FAILED']);
    expect(job.state).toBe('JOB_STATE_SUCCEEDED');
    expect(job.completionStats).toMatchObject({ successfulCount: '20', failedCount: '2' });
  });
});
