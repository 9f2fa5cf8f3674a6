import { status } from '@grpc/grpc-js';

/**
 * An error the emulator answers with: a real gRPC status code and a message a user can act on.
 * Anything else thrown by a handler is a bug in the emulator and answers INTERNAL.
 */
export class ApiError extends Error {
  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const invalidArgument = (message: string) => new ApiError(status.INVALID_ARGUMENT, message);
export const notFound = (message: string) => new ApiError(status.NOT_FOUND, message);
export const failedPrecondition = (message: string) => new ApiError(status.FAILED_PRECONDITION, message);
export const alreadyExists = (message: string) => new ApiError(status.ALREADY_EXISTS, message);

/** gRPC status code -> the HTTP status Google's REST front end answers with (google/rpc/code.proto). */
export function httpStatusOf(code: status): number {
  switch (code) {
    case status.INVALID_ARGUMENT:
    case status.FAILED_PRECONDITION:
    case status.OUT_OF_RANGE:
      return 400;
    case status.UNAUTHENTICATED:
      return 401;
    case status.PERMISSION_DENIED:
      return 403;
    case status.NOT_FOUND:
      return 404;
    case status.ALREADY_EXISTS:
    case status.ABORTED:
      return 409;
    case status.RESOURCE_EXHAUSTED:
      return 429;
    case status.CANCELLED:
      return 499;
    case status.UNIMPLEMENTED:
      return 501;
    case status.UNAVAILABLE:
      return 503;
    case status.DEADLINE_EXCEEDED:
      return 504;
    default:
      return 500;
  }
}
