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
