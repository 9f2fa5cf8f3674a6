/**
 * The retry decision, made explicit. A PermanentError is bad input or a state that retrying
 * cannot fix: record it where the user reads state, log at ERROR, acknowledge the event.
 * Anything else thrown from a handler is treated as transient: the platform redelivers.
 */
export class PermanentError extends Error {
  constructor(
    message: string,
    readonly reason: string = 'INVALID_INPUT',
  ) {
    super(message);
    this.name = 'PermanentError';
  }
}

export class TransientError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransientError';
  }
}

export function isPermanent(err: unknown): err is PermanentError {
  return err instanceof PermanentError;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The errors ports promise in domain terms, so use cases decide on these rather than on a
 * transport's codes; adapters translate what a service reports into them.
 */

/** A resource with the id asked for exists already (Vertex AI UploadModel with a taken modelId). */
export class AlreadyExistsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AlreadyExistsError';
  }
}

/**
 * A predict call the endpoint refused or did not answer in time (overloaded, unavailable, past
 * its deadline): the same call may succeed later, so it is retried with backoff. It keeps the
 * name TransientError so every check of "transient" sees it as one.
 */
export class PredictRefusedError extends TransientError {
  readonly kind = 'PREDICT_REFUSED';
}

/**
 * The model rejected the instances of a predict call (one bad instance fails the whole call):
 * sending the same instances again cannot help, but a smaller call without the bad one can.
 */
export class InstancesRejectedError extends PermanentError {
  readonly kind = 'INSTANCES_REJECTED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'MODEL_REJECTED');
    this.name = 'InstancesRejectedError';
    if (options && 'cause' in options) this.cause = options.cause;
  }
}
