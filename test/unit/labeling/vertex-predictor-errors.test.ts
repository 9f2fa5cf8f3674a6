import { InstancesRejectedError, PermanentError, PredictRefusedError, TransientError } from '#shared/errors';
import { vertexPredictor } from '#shared/labeling/adapters/vertex-predictor';
import { GrpcCode } from '#shared/retry/error-codes';

/** An error as google-gax throws it: a gRPC `code`, and over REST also the HTTP status it received. */
const clientError = (fields: { code?: number; httpStatusCode?: number }, message = 'from the client') => Object.assign(new Error(message), fields);

/** A PredictionServiceClient whose predict fails with `err`. */
const failingClient = (err: unknown) => ({ predict: async () => Promise.reject(err) }) as never;

describe('vertexPredictor: Vertex AI errors in the Predictor port terms', () => {
  const table: Array<[string, { code?: number; httpStatusCode?: number }, 'refused' | 'rejected' | 'as thrown']> = [
    ['RESOURCE_EXHAUSTED (429 rate of traffic)', { code: GrpcCode.RESOURCE_EXHAUSTED }, 'refused'],
    ['UNAVAILABLE (503)', { code: GrpcCode.UNAVAILABLE }, 'refused'],
    ['DEADLINE_EXCEEDED', { code: GrpcCode.DEADLINE_EXCEEDED }, 'refused'],
    ['REST: RESOURCE_EXHAUSTED mapped from HTTP 429', { code: GrpcCode.RESOURCE_EXHAUSTED, httpStatusCode: 429 }, 'refused'],
    ['REST: HTTP 429 without a gRPC code', { httpStatusCode: 429 }, 'refused'],
    ['REST: HTTP 503 without a gRPC code', { httpStatusCode: 503 }, 'refused'],
    ['REST: HTTP 504 without a gRPC code', { httpStatusCode: 504 }, 'refused'],
    ['INVALID_ARGUMENT (400)', { code: GrpcCode.INVALID_ARGUMENT }, 'rejected'],
    ['REST: HTTP 400 without a gRPC code', { httpStatusCode: 400 }, 'rejected'],
    ['INTERNAL (a container 500)', { code: GrpcCode.INTERNAL }, 'as thrown'],
    ['REST: INTERNAL mapped from HTTP 500', { code: GrpcCode.INTERNAL, httpStatusCode: 500 }, 'as thrown'],
    ['NOT_FOUND (no such endpoint)', { code: GrpcCode.NOT_FOUND }, 'as thrown'],
    ['PERMISSION_DENIED', { code: GrpcCode.PERMISSION_DENIED }, 'as thrown'],
    ['no code at all (a reset socket)', {}, 'as thrown'],
  ];

  it.each(table)('%s -> %s', async (_what, fields, expected) => {
    const thrown = clientError(fields);
    const err = await vertexPredictor(failingClient(thrown))
      .predict('projects/p/locations/l/endpoints/e', [Buffer.from('x')])
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    if (expected === 'refused') {
      expect(err).toBeInstanceOf(PredictRefusedError);
      expect(err).toBeInstanceOf(TransientError);
      expect(err).not.toBeInstanceOf(InstancesRejectedError);
    } else if (expected === 'rejected') {
      expect(err).toBeInstanceOf(InstancesRejectedError);
      expect(err).toBeInstanceOf(PermanentError);
      expect(err).not.toBeInstanceOf(PredictRefusedError);
    } else {
      expect(err).toBe(thrown);
      return;
    }
    // the client's message is kept (it reaches the result's error text) and the original is the cause
    expect((err as Error).message).toBe('from the client');
    expect((err as Error).cause).toBe(thrown);
  });
});
