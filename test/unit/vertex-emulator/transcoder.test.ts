import * as protobuf from 'protobufjs';
import { ApiError } from '#local/vertex-emulator/api-error';
import { collectRoutes, vertexOperationsRules, type HttpRoute } from '#local/vertex-emulator/http-rules';
import { splitRequestPath } from '#local/vertex-emulator/path-template';
import { loadVertexProtos } from '#local/vertex-emulator/protos';
import { decodeRequest, encodeResponse, requestJson } from '#local/vertex-emulator/transcoder';

/** The transcoder on the very protos and rules the emulator serves. */
const protos = loadVertexProtos();
const routes = collectRoutes(protos.serviceTypes, vertexOperationsRules());
const V1 = 'google.cloud.aiplatform.v1';

function route(httpMethod: string, url: string) {
  const [rawPath, qs = ''] = url.split('?');
  const { path, verb } = splitRequestPath(rawPath);
  for (const r of routes) {
    if (r.httpMethod !== httpMethod) continue;
    const vars = r.template.match(path, verb);
    if (vars) return { r, vars, query: new URLSearchParams(qs) };
  }
  throw new Error(`no route for ${httpMethod} ${url}`);
}

function decode(httpMethod: string, url: string, body?: unknown) {
  const { r, vars, query } = route(httpMethod, url);
  const parts = { vars, query, body: Buffer.from(body === undefined ? '' : JSON.stringify(body)), contentType: 'application/json' };
  return { rpc: r.rpcPath, json: requestJson(r, parts), message: decodeRequest(r, parts).toJSON() };
}

const LOC = 'projects/p/locations/us-central1';

describe('REST routes from the google.api.http rules', () => {
  it('covers every unary method of the served services, each reachable by its own rule', () => {
    const rpcPaths = new Set(routes.map((r) => r.rpcPath));
    for (const service of protos.serviceTypes) {
      for (const m of service.methodsArray) {
        if (m.requestStream) continue;
        const annotated = (m.parsedOptions ?? []).some((o: object) => '(google.api.http)' in o) || service.name === 'Operations';
        if (annotated) expect(rpcPaths).toContain(`/${service.fullName.slice(1)}/${m.name}`);
      }
    }
    expect(rpcPaths.size).toBeGreaterThan(30);
  });

  it("serves Vertex AI's operation paths under every resource and the location, v1 and v1beta1", () => {
    expect(route('GET', `/v1/${LOC}/models/1/operations/2`).r.rpcPath).toBe('/google.longrunning.Operations/GetOperation');
    expect(route('GET', `/v1/${LOC}/endpoints/1/operations/2`).vars.get('name')).toBe(`${LOC}/endpoints/1/operations/2`);
    expect(route('GET', `/v1beta1/${LOC}/endpoints/1/operations/2`).r.rpcPath).toBe('/google.longrunning.Operations/GetOperation');
    expect(route('GET', `/v1/${LOC}/operations/2`).r.rpcPath).toBe('/google.longrunning.Operations/GetOperation');
    expect(route('GET', `/v1/${LOC}/operations`).r.rpcPath).toBe('/google.longrunning.Operations/ListOperations');
    expect(route('POST', `/v1/${LOC}/models/1/operations/2:wait`).r.rpcPath).toBe('/google.longrunning.Operations/WaitOperation');
    expect(route('POST', `/v1/${LOC}/endpoints/1/operations/2:cancel`).r.rpcPath).toBe('/google.longrunning.Operations/CancelOperation');
    expect(route('DELETE', `/v1/${LOC}/endpoints/1/operations/2`).r.rpcPath).toBe('/google.longrunning.Operations/DeleteOperation');
  });
});

describe('HTTP/JSON -> request message', () => {
  it('body "*": every field not in the path comes from the body; path variables win', () => {
    const { rpc, message } = decode('POST', `/v1/${LOC}/models:upload`, {
      parent: 'ignored',
      model: { displayName: 'm', artifactUri: 'gs://b/m', containerSpec: { imageUri: 'img', sharedMemorySizeMb: '256' } },
    });
    expect(rpc).toBe(`/${V1}.ModelService/UploadModel`);
    expect(message).toEqual({ parent: LOC, model: { displayName: 'm', artifactUri: 'gs://b/m', containerSpec: { imageUri: 'img', sharedMemorySizeMb: '256' } } });
  });

  it('body "field": the body is that field, the rest comes from query parameters', () => {
    const { rpc, message } = decode('POST', `/v1/${LOC}/endpoints?endpointId=ep-1&alt=json`, { displayName: 'e', labels: { a: 'b' } });
    expect(rpc).toBe(`/${V1}.EndpointService/CreateEndpoint`);
    expect(message).toEqual({ parent: LOC, endpointId: 'ep-1', endpoint: { displayName: 'e', labels: { a: 'b' } } });
  });

  it('binds a nested path variable into the body field, and a FieldMask from a query string (camelCase in, snake_case in the message)', () => {
    const { rpc, message } = decode('PATCH', `/v1/${LOC}/endpoints/7?updateMask=displayName,trafficSplit`, { displayName: 'renamed', trafficSplit: { '1': 100 } });
    expect(rpc).toBe(`/${V1}.EndpointService/UpdateEndpoint`);
    expect(message).toEqual({ endpoint: { name: `${LOC}/endpoints/7`, displayName: 'renamed', trafficSplit: { '1': 100 } }, updateMask: { paths: ['display_name', 'traffic_split'] } });
  });

  it('no body: query parameters by JSON or proto name, numbers as numbers, system parameters ignored', () => {
    const { rpc, json } = decode('GET', `/v1/${LOC}/models?pageSize=5&page_token=abc&filter=${encodeURIComponent('display_name="m"')}&readMask=displayName&alt=json&prettyPrint=false`);
    expect(rpc).toBe(`/${V1}.ModelService/ListModels`);
    expect(json).toEqual({ parent: LOC, pageSize: 5, pageToken: 'abc', filter: 'display_name="m"', readMask: 'displayName' });
  });

  it('repeats a query parameter for a repeated field', () => {
    const merge = routes.find((r) => r.rpcPath.endsWith('/MergeVersionAliases'))!;
    const asQuery: HttpRoute = { ...merge, body: undefined };
    const json = requestJson(asQuery, {
      vars: new Map([['name', `${LOC}/models/1@2`]]),
      query: new URLSearchParams('versionAliases=a&versionAliases=-b'),
      body: Buffer.alloc(0),
      contentType: undefined,
    });
    expect(json).toEqual({ name: `${LOC}/models/1@2`, versionAliases: ['a', '-b'] });
  });

  it('sets nested fields from dotted query parameters', () => {
    const mutate = routes.find((r) => r.rpcPath.endsWith('/MutateDeployedModel'))!;
    const asQuery: HttpRoute = { ...mutate, body: undefined };
    const json = requestJson(asQuery, {
      vars: new Map([['endpoint', `${LOC}/endpoints/1`]]),
      query: new URLSearchParams('deployedModel.id=5&deployedModel.dedicatedResources.minReplicaCount=2&deployedModel.disableContainerLogging=true'),
      body: Buffer.alloc(0),
      contentType: undefined,
    });
    expect(json).toEqual({ endpoint: `${LOC}/endpoints/1`, deployedModel: { id: '5', dedicatedResources: { minReplicaCount: 2 }, disableContainerLogging: true } });
  });

  it('accepts proto (snake_case) names in the body, enums by name', () => {
    const { message } = decode('POST', `/v1/${LOC}/endpoints/7:deployModel`, {
      deployed_model: { model: `${LOC}/models/1`, dedicated_resources: { min_replica_count: 1 } },
      traffic_split: { '0': 100 },
    });
    expect(message).toEqual({ endpoint: `${LOC}/endpoints/7`, deployedModel: { model: `${LOC}/models/1`, dedicatedResources: { minReplicaCount: 1 } }, trafficSplit: { '0': 100 } });
    const list = decode('GET', `/v1/${LOC}/models/1/evaluations?pageSize=1`);
    expect(list.rpc).toBe(`/${V1}.ModelService/ListModelEvaluations`);
  });

  it('keeps google.protobuf.Value instances (predict) as JSON values', () => {
    const instances = [{ string_input: { b64: 'AAAA' } }, 3, 'x', null, [true]];
    const { rpc, message } = decode('POST', `/v1/${LOC}/endpoints/7:predict`, { instances, parameters: { k: 1 } });
    expect(rpc).toBe(`/${V1}.PredictionService/Predict`);
    const type = protos.root.lookupType(`${V1}.PredictRequest`);
    const back = type.toObject(type.fromObject(message), { json: true, enums: String }) as { instances: Array<Record<string, unknown>> };
    expect(back.instances[0]).toEqual({ structValue: { fields: { string_input: { structValue: { fields: { b64: { stringValue: 'AAAA' } } } } } } });
    expect(back.instances.slice(1)).toEqual([{ numberValue: 3 }, { stringValue: 'x' }, { nullValue: 'NULL_VALUE' }, { listValue: { values: [{ boolValue: true }] } }]);
  });

  it('takes an empty body as an empty message (POST ...:cancel, ...:wait)', () => {
    const { rpc, message } = decode('POST', `/v1/${LOC}/endpoints/1/operations/2:cancel`);
    expect(rpc).toBe('/google.longrunning.Operations/CancelOperation');
    expect(message).toEqual({ name: `${LOC}/endpoints/1/operations/2` });
  });

  it('binds the raw body to a google.api.HttpBody field (rawPredict)', () => {
    const { r, vars, query } = route('POST', `/v1/${LOC}/endpoints/7:rawPredict`);
    const json = requestJson(r, { vars, query, body: Buffer.from('{"instances":[]}'), contentType: 'application/json' });
    expect(json).toEqual({ endpoint: `${LOC}/endpoints/7`, httpBody: { contentType: 'application/json', data: Buffer.from('{"instances":[]}').toString('base64') } });
  });

  it.each([
    ['an unknown body field', 'POST', `/v1/${LOC}/models:upload`, { model: { displayName: 'm', colour: 'red' } }, 'Unknown name "colour" at \'model\': Cannot find field.'],
    ['an unknown query parameter', 'GET', `/v1/${LOC}/models?pageSze=5`, undefined, 'Unknown name "pageSze": Cannot bind query parameter.'],
    ['a non-number for an int32', 'GET', `/v1/${LOC}/models?pageSize=five`, undefined, 'Invalid value at \'pageSize\' (TYPE_INT32), "five"'],
    ['a body that is not JSON', 'POST', `/v1/${LOC}/models:upload`, '{"model": ', 'Invalid JSON payload received.'],
    ['a string where a message goes', 'POST', `/v1/${LOC}/models:upload`, { model: 'm' }, 'Invalid JSON payload received.'],
  ])('refuses %s with INVALID_ARGUMENT', (_what, httpMethod, url, body, message) => {
    const { r, vars, query } = route(httpMethod, url);
    const raw = typeof body === 'string' ? body : body === undefined ? '' : JSON.stringify(body);
    let err: unknown;
    try {
      decodeRequest(r, { vars, query, body: Buffer.from(raw), contentType: 'application/json' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe(3);
    expect((err as ApiError).message).toContain(message);
  });
});

describe('response message -> JSON', () => {
  const op = routes.find((r) => r.rpcPath === '/google.longrunning.Operations/GetOperation')!;
  const operationType = protos.root.lookupType('google.longrunning.Operation');

  it('packs Any as {"@type", ...fields}, int64 as strings, enums by name, Timestamps in RFC 3339, and leaves defaults out', () => {
    const packed = protos.pack({
      type: `${V1}.UploadModelOperationMetadata`,
      value: { genericMetadata: { createTime: { seconds: 1764620000, nanos: 5_000_000 } } },
    });
    const model = protos.pack({
      type: `${V1}.Model`,
      value: { name: 'm', displayName: '', description: '', labels: {}, containerSpec: { imageUri: 'i', sharedMemorySizeMb: '256' }, supportedDeploymentResourcesTypes: [1] },
    });
    const message = operationType.fromObject({ name: 'op', metadata: packed, done: true, response: model });
    const out = JSON.parse(encodeResponse(op, message).body.toString('utf8')) as Record<string, unknown>;
    expect(out).toEqual({
      name: 'op',
      done: true,
      metadata: { '@type': `type.googleapis.com/${V1}.UploadModelOperationMetadata`, genericMetadata: { createTime: '2025-12-01T20:13:20.005Z' } },
      response: { '@type': `type.googleapis.com/${V1}.Model`, name: 'm', containerSpec: { imageUri: 'i', sharedMemorySizeMb: '256' }, supportedDeploymentResourcesTypes: ['DEDICATED_RESOURCES'] },
    });
  });

  it('writes an HttpBody response as its raw bytes and content type', () => {
    const raw = routes.find((r) => r.rpcPath.endsWith('/RawPredict'))!;
    const httpBody = protos.root.lookupType('google.api.HttpBody');
    const out = encodeResponse(raw, httpBody.fromObject({ contentType: 'application/json', data: Buffer.from('{"predictions":[]}') }));
    expect(out.contentType).toBe('application/json');
    expect(out.body.toString()).toBe('{"predictions":[]}');
  });

  it('writes a FieldMask in lowerCamelCase', () => {
    const get = routes.find((r) => r.rpcPath.endsWith('.ModelService/ListModels'))!;
    const t = protos.root.lookupType(`${V1}.ListModelsRequest`);
    const asResponse = { ...get, method: Object.assign(Object.create(get.method) as protobuf.Method, { resolvedResponseType: t }) };
    const out = JSON.parse(encodeResponse(asResponse, t.fromObject({ readMask: { paths: ['display_name', 'labels'] } })).body.toString()) as unknown;
    expect(out).toEqual({ readMask: 'displayName,labels' });
  });
});
