import { status } from '@grpc/grpc-js';
import { resolveArtifactDir } from '#local/vertex-emulator/artifact-location';
import { checkAlias, checkModelId, parseEndpointName, parseModelName } from '#local/vertex-emulator/names';

describe('resource names and artifact locations', () => {
  it('parses model names with a version or an alias, and endpoint names', () => {
    expect(parseModelName('projects/p/locations/us-central1/models/123@2')).toEqual({ project: 'p', location: 'us-central1', modelId: '123', versionSpec: '2' });
    expect(parseModelName('projects/p/locations/l/models/m@canary').versionSpec).toBe('canary');
    expect(parseModelName('projects/p/locations/l/models/m').versionSpec).toBeUndefined();
    expect(() => parseModelName('models/m')).toThrow(expect.objectContaining({ code: status.INVALID_ARGUMENT }));
    expect(parseEndpointName('projects/p/locations/l/endpoints/42').endpointId).toBe('42');
  });

  it('checks model ids and aliases as Vertex AI does', () => {
    expect(() => checkModelId('mnist-vit_2')).not.toThrow();
    expect(() => checkModelId('2mnist')).toThrow(/not starting with a digit/);
    expect(() => checkAlias('canary-2')).not.toThrow();
    expect(() => checkAlias('2')).toThrow(/must match/);
    expect(() => checkAlias('Canary')).toThrow();
  });

  it('maps gs:// artifact URIs under gcsRoot and refuses them without one', () => {
    expect(resolveArtifactDir('gs://models/mnist/v1', '/data/gcs')).toBe('/data/gcs/models/mnist/v1');
    expect(resolveArtifactDir('gs://models/mnist/v1/', '/data/gcs')).toBe('/data/gcs/models/mnist/v1/');
    expect(() => resolveArtifactDir('gs://models/mnist/v1', undefined)).toThrow(/--gcs-root/);
    expect(resolveArtifactDir('file:///srv/m', undefined)).toBe('/srv/m');
    expect(resolveArtifactDir('/srv/m', undefined)).toBe('/srv/m');
    expect(() => resolveArtifactDir('s3://b/m', undefined)).toThrow(/only gs:\/\//);
  });
});
