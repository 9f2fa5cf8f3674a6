/**
 * Exit codes that mean something: 0 done, 1 failed (the reason on stderr), 2 bad usage.
 * Commands throw these; the command runner turns them into the exit code and one stderr line.
 */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** The command was called wrongly: a bad flag, a missing argument, a folder that is not there. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The command ran and what it did failed: a deployment ended FAILED, a job had errors, the stack is down. */
export class CommandFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandFailed';
  }
}
