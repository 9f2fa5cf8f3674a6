import { appendFile } from 'node:fs/promises';
import { Agent } from 'node:http';
import type { Logger } from '#shared/logging/logger';
import { SeededRandom } from '#local/model-build/seeded-random';
import { postOnce } from '#local/emulators/http-post';
import type { BinaryCloudEvent } from './cloud-event';
import { nextRedeliveryDelay, type RedeliveryPolicy } from './redelivery-policy';

/** Fault injection for tests of event consumers. */
export interface DeliveryFaults {
  /** deliver every event this many times (1 = once) */
  duplicates?: number;
  /** hold events for a short window and send them in random order */
  shuffle?: boolean;
  /** seeds that order, so a test that shuffles draws the same order on every run (default: Math.random) */
  seed?: number;
}

interface Attempt {
  url: string;
  event: BinaryCloudEvent;
  copy: number;
  failures: number;
  firstAttemptAt: number;
}

const SHUFFLE_WINDOW_MS = 100;
/**
 * deliveries in flight to one URL at once; the rest wait their turn in order. On Google Cloud
 * a trigger's max instances (100 by default) times its concurrency bound it; 64 keeps a folder
 * drop's image-intake invocations overlapping (their prediction requests then share messages).
 */
export const DEFAULT_MAX_IN_FLIGHT_PER_URL = 64;

/**
 * Pushes CloudEvents to subscriber URLs the way Eventarc does: at least once, concurrently, in
 * no promised order. A non-2xx answer or a connection error is retried with exponential
 * backoff and jitter, bounded by attempts and age; then the event is logged at ERROR and
 * appended to the dead-letter file. Pending retries live in memory: they do not survive stop().
 * At most `maxInFlightPerUrl` requests are open to one URL (as a trigger's instances times
 * their concurrency bound it on Google Cloud); a folder copy of thousands of files queues its
 * events instead of opening thousands of sockets at once. The age bound of a retry counts from
 * the event's first attempt, not from the time it waited in the queue.
 */
export class EventDelivery {
  private faults: { duplicates: number; shuffle: boolean } = { duplicates: 1, shuffle: false };
  private random: () => number = Math.random;
  private pending = 0;
  private held: Attempt[] = [];
  private holdTimer: NodeJS.Timeout | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly controllers = new Set<AbortController>();
  private stopped = false;
  private waiters: Array<() => void> = [];
  private readonly lanes = new Map<string, { inFlight: number; queue: Attempt[]; head: number }>();
  /** kept-alive connections, as many per host as a URL may have requests in flight */
  private readonly agent: Agent;

  constructor(private readonly opts: { retry: RedeliveryPolicy; deadLetterFile: string; logger: Logger; timeoutMs?: number; maxInFlightPerUrl?: number }) {
    this.agent = new Agent({ keepAlive: true, maxSockets: opts.maxInFlightPerUrl ?? DEFAULT_MAX_IN_FLIGHT_PER_URL });
  }

  setFaults(f: DeliveryFaults): void {
    this.faults = { duplicates: Math.max(1, Math.floor(f.duplicates ?? 1)), shuffle: !!f.shuffle };
    const seeded = f.seed !== undefined ? new SeededRandom(f.seed) : undefined;
    this.random = seeded ? () => seeded.next() : Math.random;
  }

  send(url: string, event: BinaryCloudEvent): void {
    if (this.stopped) return;
    const now = Date.now();
    for (let copy = 0; copy < this.faults.duplicates; copy++) {
      this.pending++;
      const attempt: Attempt = { url, event, copy, failures: 0, firstAttemptAt: now };
      if (this.faults.shuffle) this.hold(attempt);
      else this.enqueue(attempt);
    }
  }

  /** resolves once nothing is held, in flight or waiting for a retry */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  get busy(): boolean {
    return this.pending > 0;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.holdTimer);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const c of this.controllers) c.abort();
    this.lanes.clear();
    this.agent.destroy();
    this.pending = 0;
    this.held = [];
    this.settle();
  }

  private hold(a: Attempt): void {
    this.held.push(a);
    this.holdTimer ??= setTimeout(() => {
      this.holdTimer = undefined;
      const batch = shuffled(this.held, this.random);
      this.held = [];
      // staggered so that arrival order follows the shuffled order, not just racing requests
      batch.forEach((b, i) => this.later(i * 2, () => this.enqueue(b)));
    }, SHUFFLE_WINDOW_MS);
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  /** runs the attempt when its URL has a free slot; the slot is given back when it settles */
  private enqueue(a: Attempt): void {
    if (this.stopped) return;
    let lane = this.lanes.get(a.url);
    if (!lane) this.lanes.set(a.url, (lane = { inFlight: 0, queue: [], head: 0 }));
    lane.queue.push(a);
    this.pumpLane(a.url);
  }

  private pumpLane(url: string): void {
    const lane = this.lanes.get(url);
    if (!lane) return;
    const max = this.opts.maxInFlightPerUrl ?? DEFAULT_MAX_IN_FLIGHT_PER_URL;
    while (!this.stopped && lane.inFlight < max && lane.head < lane.queue.length) {
      const a = lane.queue[lane.head++]!;
      if (lane.head >= 1024 && lane.head * 2 >= lane.queue.length) {
        lane.queue.splice(0, lane.head);
        lane.head = 0;
      }
      if (a.failures === 0) a.firstAttemptAt = Date.now();
      lane.inFlight++;
      void this.attempt(a).finally(() => {
        lane.inFlight--;
        this.pumpLane(url);
      });
    }
    if (lane.inFlight === 0 && lane.head >= lane.queue.length) this.lanes.delete(url);
  }

  private async attempt(a: Attempt): Promise<void> {
    if (this.stopped) return;
    const controller = new AbortController();
    this.controllers.add(controller);
    const out = await postOnce(a.url, a.event.body, { agent: this.agent, headers: a.event.headers, timeoutMs: this.opts.timeoutMs ?? 30_000, signal: controller.signal });
    this.controllers.delete(controller);
    const failure = 'error' in out ? out.error : out.status < 200 || out.status > 299 ? `HTTP ${out.status}` : undefined;
    const log = this.opts.logger.child({ eventId: a.event.id, eventType: a.event.type, bucket: a.event.bucket, object: a.event.name, url: a.url });
    if (this.stopped) return;
    if (failure === undefined) {
      log.debug('event delivered', { attempt: a.failures + 1 });
      return this.done();
    }
    a.failures++;
    const delay = nextRedeliveryDelay(a.failures, a.firstAttemptAt, Date.now(), this.opts.retry);
    if (delay !== undefined) {
      log.warn('event delivery failed; will retry', { attempt: a.failures, failure, retryInMs: Math.round(delay) });
      this.later(delay, () => this.enqueue(a));
      return;
    }
    log.error('event delivery gave up; dead-lettered', { attempts: a.failures, failure, deadLetterFile: this.opts.deadLetterFile });
    const line = JSON.stringify({
      deadLetteredAt: new Date().toISOString(),
      url: a.url,
      attempts: a.failures,
      lastFailure: failure,
      headers: a.event.headers,
      data: JSON.parse(a.event.body) as unknown,
    });
    await appendFile(this.opts.deadLetterFile, line + '\n').catch((err: unknown) => log.error('could not write dead-letter file', { err }));
    this.done();
  }

  private done(): void {
    this.pending = Math.max(0, this.pending - 1);
    this.settle();
  }

  private settle(): void {
    if (this.pending > 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
