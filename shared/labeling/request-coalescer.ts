import { requestAttributes, type PredictionRequest } from './core/request-message';
import type { RequestPublisher } from './ports';

export interface CoalescerOptions {
  /** images in one merged request at most (a manifest's chunk size: one request is one predict batch) */
  maxImages: number;
  /** how long the first waiting request waits for company before it goes out */
  windowMs: number;
}

interface Waiting {
  images: PredictionRequest['images'];
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Merges the prediction requests that intake invocations of one instance publish at about
 * the same time, for the same job and model, into one message, as a manifest job's chunks
 * are: a folder drop fires one event per image, and one message per image costs the predict
 * worker one delivery, one Firestore read and one write batch per image.
 *
 * Each caller's promise settles with the message that carries its images: it resolves once
 * that message is published and rejects if publishing it failed, so a caller acknowledges its
 * event (finishEvent) only after its images are on the topic, and a failure sends every event
 * of the merged message back for redelivery. The images keep their own bucket/name#generation,
 * from which the worker derives each result's id, so a merged message labels each image once
 * however the events are redelivered. A request of maxImages or more goes out as it is.
 */
export class RequestCoalescer {
  private readonly waiting = new Map<string, { req: Omit<PredictionRequest, 'images'>; waiters: Waiting[]; images: number; timer: NodeJS.Timeout }>();

  constructor(
    private readonly publisher: RequestPublisher,
    private readonly opts: CoalescerOptions,
  ) {}

  publish(req: PredictionRequest): Promise<void> {
    if (req.images.length >= this.opts.maxImages) return this.publisher.publishRequest(req, requestAttributes(req));
    const key = `${req.job}\u0000${req.model}`;
    return new Promise<void>((resolve, reject) => {
      let group = this.waiting.get(key);
      if (group && group.images + req.images.length > this.opts.maxImages) {
        this.flush(key);
        group = undefined;
      }
      if (!group) {
        const timer = setTimeout(() => this.flush(key), this.opts.windowMs);
        group = { req: { job: req.job, model: req.model }, waiters: [], images: 0, timer };
        this.waiting.set(key, group);
      }
      group.waiters.push({ images: req.images, resolve, reject });
      group.images += req.images.length;
      if (group.images >= this.opts.maxImages) this.flush(key);
    });
  }

  private flush(key: string): void {
    const group = this.waiting.get(key);
    if (!group) return;
    this.waiting.delete(key);
    clearTimeout(group.timer);
    const merged: PredictionRequest = { ...group.req, images: group.waiters.flatMap((w) => w.images) };
    this.publisher.publishRequest(merged, requestAttributes(merged)).then(
      () => group.waiters.forEach((w) => w.resolve()),
      (err: unknown) => group.waiters.forEach((w) => w.reject(err)),
    );
  }
}
