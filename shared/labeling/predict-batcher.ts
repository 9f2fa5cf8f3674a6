import { InstancesRejectedError, PermanentError, PredictRefusedError, TransientError, errorMessage } from '#shared/errors';
import type { Logger } from '#shared/logging/logger';
import { fitsOneRequest, instanceRequestBytes, packInstances, REQUEST_OVERHEAD_BYTES, type PackLimits } from './core/pack-instances';
import type { Predictor, PredictResponse } from './ports';
import { PREDICT_RETRY_POLICY, withRetry, type RetryPolicy } from '#shared/retry/retry-policy';

export type InstanceOutcome = { ok: true; label: string; confidence: number; deployedModelId: string; model: string; modelVersionId: string; latencyMs: number } | { ok: false; error: Error };

export interface BatcherOptions {
  /** how long the first queued image waits for company before its call goes out */
  windowMs: number;
  /**
   * predict calls in flight per endpoint at most (default 2). While they are, new images queue
   * and go out together when a call returns: under load, batches grow by themselves to what
   * the endpoint can take (group commit), with no added wait when it is idle.
   */
  maxInFlight?: number;
  pack: PackLimits;
  backoff?: RetryPolicy;
  logger: Logger;
  /** where this batcher counts its calls (the wiring keeps one per instance); default: its own */
  stats?: PredictStats;
}

/** Counters of what went over the wire, for the bench and the logs. */
export interface PredictStats {
  /** calls sent, including refused ones that were retried */
  calls: number;
  failedCalls: number;
  /** instances in successful calls */
  instances: number;
  /** bytes of every request sent, refused or not */
  requestBytes: number;
}

export function emptyPredictStats(): PredictStats {
  return { calls: 0, failedCalls: 0, instances: 0, requestBytes: 0 };
}

interface Pending {
  bytes: Buffer;
  deadline: number;
  resolve: (o: InstanceOutcome) => void;
}

/**
 * Shares predict calls between the concurrent invocations of one instance: images queue for
 * a short window and go out packed into as few requests as fit the payload limit and the
 * instance cap; while `maxInFlight` calls are out, images keep queueing and leave together
 * when one returns. Every image gets its own outcome, so one bad image never fails the others.
 */
export class PredictBatcher {
  private queue: Pending[] = [];
  private queuedBytes = REQUEST_OVERHEAD_BYTES;
  private timer: NodeJS.Timeout | undefined;
  private inFlight = 0;
  private pack: PackLimits;
  private readonly stats: PredictStats;

  constructor(
    private readonly predictor: Predictor,
    private readonly endpoint: string,
    private readonly opts: BatcherOptions,
  ) {
    this.pack = opts.pack;
    this.stats = opts.stats ?? emptyPredictStats();
  }

  /**
   * The endpoint's own cap on instances per call (deploy.json maxInstancesPerCall), within the
   * worker's (PREDICT_MAX_INSTANCES): a model can lower it, never raise it. Undefined: the worker's.
   */
  setMaxInstances(maxInstances: number | undefined): void {
    this.pack = { ...this.opts.pack, maxInstances: Math.min(maxInstances ?? Infinity, this.opts.pack.maxInstances) };
  }

  get maxInstances(): number {
    return this.pack.maxInstances;
  }

  submit(items: ReadonlyArray<{ bytes: Buffer; deadline: number }>): Promise<InstanceOutcome[]> {
    const promises = items.map(
      (item) =>
        new Promise<InstanceOutcome>((resolve) => {
          if (!fitsOneRequest(item.bytes.length, this.pack)) {
            resolve({ ok: false, error: new PermanentError(`the prepared image (${item.bytes.length} bytes) does not fit one predict request`, 'TOO_LARGE') });
            return;
          }
          this.queue.push({ ...item, resolve });
          this.queuedBytes += instanceRequestBytes(item.bytes.length);
        }),
    );
    if (this.queue.length >= this.pack.maxInstances || this.queuedBytes >= this.pack.maxRequestBytes) {
      this.flush();
    } else if (!this.timer && this.queue.length > 0) {
      this.timer = setTimeout(() => this.flush(), this.opts.windowMs);
    }
    return Promise.all(promises);
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const slots = (this.opts.maxInFlight ?? 2) - this.inFlight;
    if (slots <= 0 || this.queue.length === 0) return; // a returning call flushes again
    const groups = packInstances(this.queue, (p) => p.bytes.length, this.pack);
    const now = groups.slice(0, slots);
    this.queue = groups.slice(slots).flat();
    this.queuedBytes = this.queue.reduce((n, p) => n + instanceRequestBytes(p.bytes.length), REQUEST_OVERHEAD_BYTES);
    for (const group of now) void this.dispatch(group);
  }

  /** One call slot: holds it through retries, so a refusing endpoint also slows the queue. */
  private async dispatch(group: Pending[]): Promise<void> {
    this.inFlight++;
    try {
      await this.send(group);
    } finally {
      this.inFlight--;
      // What queued meanwhile has waited long enough: out with it now.
      if (this.queue.length > 0) this.flush();
    }
  }

  private async send(group: Pending[]): Promise<void> {
    const deadline = Math.min(...group.map((p) => p.deadline));
    const started = Date.now();
    let response: PredictResponse;
    try {
      response = await withRetry(() => this.call(group), {
        deadline,
        policy: this.opts.backoff ?? PREDICT_RETRY_POLICY,
        // the Predictor port says which calls were refused (the adapter decides from the transport)
        retryable: (err) => err instanceof PredictRefusedError,
        onRetry: (err, attempt, delayMs) =>
          this.opts.logger.warn('predict call refused; backing off', { endpoint: this.endpoint, instances: group.length, attempt, delayMs, error: errorMessage(err) }),
      });
    } catch (err) {
      if (err instanceof InstancesRejectedError) {
        if (group.length > 1) {
          // One bad instance fails the whole call: halve until it is alone.
          const mid = Math.ceil(group.length / 2);
          await Promise.all([this.send(group.slice(0, mid)), this.send(group.slice(mid))]);
          return;
        }
        group[0]!.resolve({ ok: false, error: new PermanentError(`the model rejected the image: ${errorMessage(err)}`, 'MODEL_REJECTED') });
        return;
      }
      const error = new TransientError(`predict failed on ${this.endpoint}: ${errorMessage(err)}`, { cause: err });
      for (const p of group) p.resolve({ ok: false, error });
      return;
    }
    const latencyMs = Date.now() - started;
    this.opts.logger.debug('predict call returned', { endpoint: this.endpoint, instances: group.length, latencyMs, queued: this.queue.length, inFlight: this.inFlight });
    if (response.predictions.length !== group.length) {
      const error = new TransientError(`predict returned ${response.predictions.length} predictions for ${group.length} instances`);
      for (const p of group) p.resolve({ ok: false, error });
      return;
    }
    group.forEach((p, i) => {
      const pred = response.predictions[i]!;
      p.resolve({
        ok: true,
        label: pred.label,
        confidence: pred.confidence,
        deployedModelId: response.deployedModelId,
        model: response.model,
        modelVersionId: response.modelVersionId,
        latencyMs,
      });
    });
  }

  private async call(group: Pending[]): Promise<PredictResponse> {
    const bytes = group.reduce((n, p) => n + instanceRequestBytes(p.bytes.length), REQUEST_OVERHEAD_BYTES);
    this.stats.calls++;
    this.stats.requestBytes += bytes;
    try {
      const r = await this.predictor.predict(
        this.endpoint,
        group.map((p) => p.bytes),
      );
      this.stats.instances += group.length;
      return r;
    } catch (err) {
      this.stats.failedCalls++;
      throw err;
    }
  }
}

/** One batcher per endpoint, kept by the worker's wiring for the instance's life so invocations share it. */
export class BatcherRegistry {
  private readonly batchers = new Map<string, PredictBatcher>();
  constructor(
    private readonly predictor: Predictor,
    private readonly opts: BatcherOptions,
  ) {}

  /** The endpoint's batcher, with its cap on instances per call (undefined: the default). */
  for(endpoint: string, maxInstances?: number): PredictBatcher {
    let b = this.batchers.get(endpoint);
    if (!b) {
      b = new PredictBatcher(this.predictor, endpoint, this.opts);
      this.batchers.set(endpoint, b);
    }
    b.setMaxInstances(maxInstances);
    return b;
  }
}
