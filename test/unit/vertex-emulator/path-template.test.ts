import { parsePathTemplate, splitRequestPath } from '#local/vertex-emulator/path-template';

const vars = (template: string, requestPath: string) => {
  const { path, verb } = splitRequestPath(requestPath);
  const m = parsePathTemplate(template).match(path, verb);
  return m && Object.fromEntries(m);
};

describe('path templates of google.api.http rules', () => {
  it('binds a variable made of several segments, and only a path of that shape', () => {
    const t = '/v1/{name=projects/*/locations/*/models/*}';
    expect(vars(t, '/v1/projects/p/locations/us-central1/models/123')).toEqual({ name: 'projects/p/locations/us-central1/models/123' });
    expect(vars(t, '/v1/projects/p/locations/us-central1/models/123@2')).toEqual({ name: 'projects/p/locations/us-central1/models/123@2' });
    expect(vars(t, '/v1/projects/p/locations/us-central1/models')).toBeUndefined();
    expect(vars(t, '/v1/projects/p/locations/us-central1/models/123/operations/9')).toBeUndefined();
    expect(vars(t, '/v1/projects/p/locations/us-central1/endpoints/123')).toBeUndefined();
    expect(vars(t, '/v1beta1/projects/p/locations/us-central1/models/123')).toBeUndefined();
  });

  it('takes literal segments after a variable', () => {
    expect(vars('/v1/{parent=projects/*/locations/*}/models', '/v1/projects/p/locations/l/models')).toEqual({ parent: 'projects/p/locations/l' });
    expect(vars('/v1/{parent=projects/*/locations/*}/models', '/v1/projects/p/locations/l/endpoints')).toBeUndefined();
  });

  it('needs the custom verb when the template has one, and refuses it when it does not', () => {
    const deploy = '/v1/{endpoint=projects/*/locations/*/endpoints/*}:deployModel';
    expect(vars(deploy, '/v1/projects/p/locations/l/endpoints/7:deployModel')).toEqual({ endpoint: 'projects/p/locations/l/endpoints/7' });
    expect(vars(deploy, '/v1/projects/p/locations/l/endpoints/7:undeployModel')).toBeUndefined();
    expect(vars(deploy, '/v1/projects/p/locations/l/endpoints/7')).toBeUndefined();
    expect(vars('/v1/{name=projects/*/locations/*/endpoints/*}', '/v1/projects/p/locations/l/endpoints/7:predict')).toBeUndefined();
    expect(parsePathTemplate(deploy).verb).toBe('deployModel');
    expect(vars('/v1/{parent=projects/*/locations/*}/models:upload', '/v1/projects/p/locations/l/models:upload')).toEqual({ parent: 'projects/p/locations/l' });
  });

  it('lets ** take any number of segments, as the last segment', () => {
    expect(vars('/v1/{name=operations/**}', '/v1/operations/a/b/c')).toEqual({ name: 'operations/a/b/c' });
    expect(vars('/v1/{name=operations/**}:cancel', '/v1/operations/a/b:cancel')).toEqual({ name: 'operations/a/b' });
    expect(vars('/v1/{name=operations/**}', '/v1/models/a')).toBeUndefined();
    expect(() => parsePathTemplate('/v1/{name=**/operations}')).toThrow('"**" must be the last segment');
  });

  it('binds nested field paths, and {var} as {var=*}', () => {
    expect(vars('/v1/{endpoint.name=projects/*/locations/*/endpoints/*}', '/v1/projects/p/locations/l/endpoints/9')).toEqual({ 'endpoint.name': 'projects/p/locations/l/endpoints/9' });
    expect(parsePathTemplate('/v1/things/{id}').fields).toEqual(['id']);
    expect(vars('/v1/things/{id}', '/v1/things/x')).toEqual({ id: 'x' });
    expect(vars('/v1/things/{id}', '/v1/things/x/y')).toBeUndefined();
  });

  it('decodes a one-segment variable whole, and a multi-segment one except %2F', () => {
    expect(vars('/v1/things/{id}', '/v1/things/a%2Fb%20c')).toEqual({ id: 'a/b c' });
    expect(vars('/v1/{name=projects/*/things/*}', '/v1/projects/p/things/a%2Fb%20c')).toEqual({ name: 'projects/p/things/a%2Fb c' });
  });

  it('refuses . and .. segments (path traversal), as google-gax does on the client side', () => {
    expect(vars('/v1/{name=operations/**}', '/v1/operations/a/../b')).toBeUndefined();
    expect(vars('/v1/things/{id}', '/v1/things/..')).toBeUndefined();
  });

  it('does not match malformed percent-encoding (a 404, not a crash)', () => {
    expect(vars('/v1/things/{id}', '/v1/things/%E0%A4%A')).toBeUndefined();
    expect(vars('/v1/{name=projects/*/things/*}', '/v1/projects/p/things/%zz')).toBeUndefined();
  });

  it('ranks templates by their literal segments', () => {
    expect(parsePathTemplate('/v1/{name=projects/*/locations/*/models/*}/operations').literals).toBe(5);
    expect(parsePathTemplate('/v1/{name=operations/**}').literals).toBe(2);
  });

  it('rejects malformed templates', () => {
    expect(() => parsePathTemplate('v1/x')).toThrow('must start with "/"');
    expect(() => parsePathTemplate('/v1/{name=projects/*')).toThrow('unclosed');
    expect(() => parsePathTemplate('/v1/{na-me}')).toThrow('bad field path');
  });
});
