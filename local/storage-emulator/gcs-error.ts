/**
 * An error answered in the JSON API's shape, so the real client raises an ApiError with the
 * same `code` and message it would get from Cloud Storage.
 */
export class GcsError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly reason: string,
  ) {
    super(message);
    this.name = 'GcsError';
  }

  toJSON(): { error: { code: number; message: string; errors: Array<{ message: string; domain: string; reason: string }> } } {
    return { error: { code: this.status, message: this.message, errors: [{ message: this.message, domain: 'global', reason: this.reason }] } };
  }
}

export const notFound = (what: string) => new GcsError(404, `No such object: ${what}`, 'notFound');
export const bucketNotFound = (_bucket: string) => new GcsError(404, 'The specified bucket does not exist.', 'notFound');
export const badRequest = (message: string) => new GcsError(400, message, 'invalid');
export const conditionNotMet = (message = 'At least one of the pre-conditions you specified did not hold.') => new GcsError(412, message, 'conditionNotMet');
