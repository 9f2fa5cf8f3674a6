import { AlreadyExistsError } from '#shared/errors';
import { vertexDeployer } from '#shared/deployment/adapters/vertex-deployer';
import { GrpcCode } from '#shared/retry/error-codes';

const clientError = (code: number) => Object.assign(new Error(`${code} from the client`), { code });
const parent = 'projects/p/locations/us-central1';
const upload = { modelId: 'digits', displayName: 'digits', description: '', artifactUri: 'gs://b/digits/1', container: { imageUri: 'img' }, versionAlias: 'v1', labels: {} };

/** A deployer over clients whose every call fails with `err`. */
function failingDeployer(err: unknown) {
  const fail = async () => Promise.reject(err);
  return vertexDeployer({
    project: 'p',
    location: 'us-central1',
    models: { uploadModel: fail, getModel: fail } as never,
    endpoints: { createEndpoint: fail } as never,
  });
}

describe('vertexDeployer: Vertex AI errors in the VertexDeployer port terms', () => {
  it('UploadModel ALREADY_EXISTS (the modelId is taken) is an AlreadyExistsError carrying the message and the cause', async () => {
    const thrown = clientError(GrpcCode.ALREADY_EXISTS);
    const err = await failingDeployer(thrown)
      .startUpload(upload)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AlreadyExistsError);
    expect((err as Error).message).toBe(thrown.message);
    expect((err as Error).cause).toBe(thrown);
  });

  it.each([GrpcCode.INVALID_ARGUMENT, GrpcCode.NOT_FOUND, GrpcCode.UNAVAILABLE, GrpcCode.FAILED_PRECONDITION])('UploadModel code %i is thrown as it is', async (code) => {
    const thrown = clientError(code);
    await expect(failingDeployer(thrown).startUpload(upload)).rejects.toBe(thrown);
  });

  it('CreateEndpoint ALREADY_EXISTS answers with the endpoint of the deterministic id; another error is thrown', async () => {
    await expect(failingDeployer(clientError(GrpcCode.ALREADY_EXISTS)).createEndpoint('digits')).resolves.toBe(`${parent}/endpoints/digits`);
    const thrown = clientError(GrpcCode.UNAVAILABLE);
    await expect(failingDeployer(thrown).createEndpoint('digits')).rejects.toBe(thrown);
  });

  it('GetModel NOT_FOUND or INVALID_ARGUMENT (no such alias) finds no version; another error is thrown', async () => {
    await expect(failingDeployer(clientError(GrpcCode.NOT_FOUND)).findVersionByAlias(`${parent}/models/digits`, 'v1')).resolves.toBeUndefined();
    await expect(failingDeployer(clientError(GrpcCode.INVALID_ARGUMENT)).findVersionByAlias(`${parent}/models/digits`, 'v1')).resolves.toBeUndefined();
    const thrown = clientError(GrpcCode.PERMISSION_DENIED);
    await expect(failingDeployer(thrown).findVersionByAlias(`${parent}/models/digits`, 'v1')).rejects.toBe(thrown);
  });
});
