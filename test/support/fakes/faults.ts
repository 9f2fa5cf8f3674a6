import { GrpcCode } from '#shared/retry/error-codes';

/**
 * Failures a fake throws on demand, per method: `failNext('startUpload', unavailable())` makes
 * the next call throw, `failAlways` every call until `heal`. Fakes call `check(method)` first.
 */
export class FaultPlan<M extends string = string> {
  private readonly once = new Map<M, unknown[]>();
  private readonly always = new Map<M, unknown>();
  /** every call made, in order, with its arguments */
  readonly calls: Array<{ method: M; args: unknown[] }> = [];

  failNext(method: M, err: unknown, times = 1): this {
    const queue = this.once.get(method) ?? [];
    for (let i = 0; i < times; i++) queue.push(err);
    this.once.set(method, queue);
    return this;
  }

  failAlways(method: M, err: unknown): this {
    this.always.set(method, err);
    return this;
  }

  heal(method?: M): void {
    if (method === undefined) {
      this.once.clear();
      this.always.clear();
    } else {
      this.once.delete(method);
      this.always.delete(method);
    }
  }

  check(method: M, ...args: unknown[]): void {
    this.calls.push({ method, args });
    const queued = this.once.get(method);
    if (queued?.length) throw queued.shift();
    if (this.always.has(method)) throw this.always.get(method);
  }

  count(method: M): number {
    return this.calls.filter((c) => c.method === method).length;
  }
}

/** An error as the Google clients throw it: a gRPC status code and its message. */
export function grpcError(code: number, message: string): Error & { code: number } {
  return Object.assign(new Error(`${code} ${message}`), { code });
}

export const unavailable = (what = 'the service is unavailable') => grpcError(GrpcCode.UNAVAILABLE, `UNAVAILABLE: ${what}`);
export const invalidArgument = (what: string) => grpcError(GrpcCode.INVALID_ARGUMENT, `INVALID_ARGUMENT: ${what}`);
export const notFound = (what: string) => grpcError(GrpcCode.NOT_FOUND, `NOT_FOUND: ${what}`);
export const failedPrecondition = (what: string) => grpcError(GrpcCode.FAILED_PRECONDITION, `FAILED_PRECONDITION: ${what}`);

/** What a document store does to values: a copy, with undefined fields gone. */
export function stored<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
