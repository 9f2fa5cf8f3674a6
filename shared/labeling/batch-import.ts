import { randomUUID } from 'node:crypto';
import { systemClock } from '#shared/time/wait-until';
import type { BatchChunk, BatchChunkStore, BatchFiles, BatchJobs, BatchModels } from './ports';
import { submitChunk } from './batch-submit-chunk';
import { recordAndPublish, type RecordDeps } from './record-results';
import { errorResult, okResult, type LabelResult } from './result';

export interface BatchImportDeps extends RecordDeps {
  chunks: BatchChunkStore;
  jobs: BatchJobs;
  files: BatchFiles;
  models: BatchModels;
  batchSize: number;
  /** output lines recorded (and published) per step; the cursor is saved after each */
  pageLines: number;
  /**
   * how long one tick keeps taking up chunks and pages: past it, the tick saves its cursor and
   * ends, and the next tick goes on (well under the function's timeout, so a tick is never cut
   * off and redelivered while it still runs)
   */
  tickBudgetMs: number;
  /** how long a tick's lease on a chunk lasts; renewed with every page */
  chunkLeaseMs: number;
}

type Step = 'imported' | 'running' | 'paused';

/**
 * Follows every open chunk: a PREPARED one gets its BatchPredictionJob (submitChunk); a chunk whose BatchPredictionJob succeeded has its output read
 * (predictions_*.jsonl, then errors_*.jsonl, each line `{"key", "prediction"}` or
 * `{"key", "error": {code|status, message}}`) and turned into one result per image, OK or ERROR
 * with Vertex AI's message; an image no line mentions gets an ERROR saying so; a job that
 * failed or was cancelled gives every image of its chunk an ERROR with the job's error. Results
 * go through recordAndPublish (the online route's exactly-once recording, progress roll-up and
 * job-completed message), a page at a time with the cursor saved after each page, so a crash
 * or timeout resumes after the last saved page and a redone page creates nothing twice.
 *
 * A tick works each chunk under a lease (so ticks that overlap, on other instances or after a
 * redelivery, share the chunks out instead of all importing the same one) and stops taking up
 * chunks and pages once its budget is spent: at 100,000 images one tick importing every
 * finished chunk outlived the function's timeout, was redelivered while it still ran, and the
 * copies piled up on the same chunk until the job stalled.
 */
export async function followBatches(deps: BatchImportDeps): Promise<{ followed: number; submitted: number; imported: number; running: number; paused: number; leasedElsewhere: number }> {
  const clock = deps.clock ?? systemClock;
  const tick: Tick = { owner: randomUUID(), stopAt: clock.now() + deps.tickBudgetMs };
  const open = await deps.chunks.open();
  const counts = { submitted: 0, imported: 0, running: 0, paused: 0, leasedElsewhere: 0 };
  // One chunk's trouble (its model not deployed yet, a read that failed) does not hold up the
  // others: each is tried, and the first error is thrown at the end so the tick is redelivered.
  const errors: unknown[] = [];
  for (const found of open) {
    if (clock.now() >= tick.stopAt) {
      counts.paused++; // the next tick takes it up
      continue;
    }
    const chunk = await deps.chunks.claim(found.job, found.chunk, tick.owner, clock.now(), deps.chunkLeaseMs);
    if (!chunk) {
      counts.leasedElsewhere++; // another tick works it right now (or it was just imported)
      continue;
    }
    try {
      const outcome = await followChunk(chunk, deps, tick);
      if (outcome.submitted) counts.submitted++;
      counts[outcome.step]++;
    } catch (err) {
      errors.push(err);
      deps.logger.warn('batch chunk not advanced; the next tick tries again', { job: found.job, chunk: found.chunk, error: err });
    } finally {
      await deps.chunks.release(chunk.job, chunk.chunk, tick.owner).catch(() => undefined); // else it runs out
    }
  }
  if (errors.length) throw errors[0];
  return { followed: open.length, ...counts };
}

/** this tick's lease owner, and when it stops taking up work */
interface Tick {
  owner: string;
  stopAt: number;
}

async function followChunk(found: BatchChunk, deps: BatchImportDeps, tick: Tick): Promise<{ submitted: boolean; step: Step }> {
  let chunk = found;
  let submitted = false;
  if (chunk.state === 'PREPARED') {
    chunk = await submitChunk(chunk, deps);
    submitted = true;
  }
  const view = await deps.jobs.get(chunk.vertexJob!);
  if (view.phase === 'succeeded') {
    return { submitted, step: await importOutput(chunk, view.outputDirectory!, deps, tick) };
  }
  if (view.phase === 'failed') {
    const why = `the Vertex AI batch prediction job ${chunk.vertexJob} ended ${view.state}: ${view.error ?? 'no error given'}`;
    await recordPages(
      deps,
      chunk,
      chunk.images.map((i) => errorResult(base(chunk, i), why, 'BATCH_JOB_FAILED', chunk.model)),
    );
    await deps.chunks.put({ ...chunk, state: 'IMPORTED' });
    return { submitted, step: 'imported' };
  }
  return { submitted, step: 'running' };
}

/** After a page: false when the tick's budget is spent or its lease was lost (the cursor is saved; the next tick goes on). */
async function mayGoOn(chunk: BatchChunk, deps: BatchImportDeps, tick: Tick): Promise<boolean> {
  const clock = deps.clock ?? systemClock;
  if (clock.now() >= tick.stopAt) return false;
  return (await deps.chunks.claim(chunk.job, chunk.chunk, tick.owner, clock.now(), deps.chunkLeaseMs)) !== undefined;
}

async function importOutput(chunk: BatchChunk, outputDir: string, deps: BatchImportDeps, tick: Tick): Promise<Step> {
  const byId = new Map(chunk.images.map((i) => [i.id, i]));
  const all = await deps.files.list(`${outputDir}/`);
  const files = [...all.filter((u) => /\/predictions_\d+\.jsonl$/.test(u)), ...all.filter((u) => /\/errors_\d+\.jsonl$/.test(u))];
  const seen = new Set<string>();
  const cursor = chunk.cursor ?? { file: 0, line: 0 };
  for (let f = 0; f < files.length; f++) {
    const lines = (await deps.files.read(files[f]!))
      .toString('utf8')
      .split('\n')
      .filter((l) => l.trim());
    const results: LabelResult[] = [];
    for (const text of lines) {
      const r = lineResult(chunk, text, byId);
      if (!r || seen.has(r.id)) continue; // one result per image, whatever Vertex AI repeats
      seen.add(r.id);
      results.push(r);
    }
    if (f < cursor.file) continue; // done before a restart; its keys still count as seen
    const from = f === cursor.file ? cursor.line : 0;
    for (let at = from; at < results.length; at += deps.pageLines) {
      await recordAndPublish(deps, chunk.job, results.slice(at, at + deps.pageLines));
      chunk.cursor = { file: f, line: Math.min(at + deps.pageLines, results.length) };
      await deps.chunks.put(chunk);
      if (!(await mayGoOn(chunk, deps, tick))) return 'paused';
    }
  }
  const missing = chunk.images.filter((i) => !seen.has(i.id));
  await recordAndPublish(
    deps,
    chunk.job,
    missing.map((i) => errorResult(base(chunk, i), 'Vertex AI wrote no prediction and no error for this image', 'NO_BATCH_OUTPUT', chunk.model)),
  );
  await deps.chunks.put({ ...chunk, cursor: { file: files.length, line: 0 }, state: 'IMPORTED' });
  deps.logger.info('batch prediction output imported', { job: chunk.job, chunk: chunk.chunk, files: files.length, images: chunk.images.length, missing: missing.length });
  return 'imported';
}

function lineResult(chunk: BatchChunk, text: string, byId: Map<string, BatchChunk['images'][number]>): LabelResult | undefined {
  let line: { key?: unknown; prediction?: { label?: unknown; confidence?: unknown }; error?: { code?: unknown; status?: unknown; message?: unknown } };
  try {
    line = JSON.parse(text) as typeof line;
  } catch {
    return undefined; // not a line Vertex AI writes; the image gets NO_BATCH_OUTPUT if nothing else names it
  }
  const image = typeof line.key === 'string' ? byId.get(line.key) : undefined;
  if (!image) return undefined;
  if (line.prediction && typeof line.prediction.label === 'string') {
    return okResult(base(chunk, image), {
      label: line.prediction.label,
      confidence: typeof line.prediction.confidence === 'number' ? line.prediction.confidence : null,
      modelName: chunk.model,
      model: chunk.vertexModel?.split('@')[0] ?? null,
      modelVersionId: chunk.vertexModel?.split('@')[1] ?? null,
      deployedModelId: null,
      latencyMs: null,
    });
  }
  const message = typeof line.error?.message === 'string' ? line.error.message : 'Vertex AI reported an error without a message';
  return errorResult(base(chunk, image), message, 'BATCH_PREDICTION_ERROR', chunk.model);
}

const base = (chunk: BatchChunk, i: BatchChunk['images'][number]) => ({ id: i.id, job: chunk.job, imageUri: i.imageUri, generation: i.generation });

async function recordPages(deps: BatchImportDeps, chunk: BatchChunk, results: LabelResult[]): Promise<void> {
  for (let at = 0; at < results.length; at += deps.pageLines) await recordAndPublish(deps, chunk.job, results.slice(at, at + deps.pageLines));
}
