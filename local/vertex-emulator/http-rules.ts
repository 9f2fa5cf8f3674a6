import { dirname } from 'node:path';
import { v1, v1beta1 } from '@google-cloud/aiplatform';
import type * as protobuf from 'protobufjs';
import { parsePathTemplate, type PathTemplate } from './path-template';

/** One HTTP binding of an RPC (a `google.api.http` rule or one of its additional_bindings). */
export interface HttpRoute {
  httpMethod: string;
  template: PathTemplate;
  /** "*" (every field not bound by the path), a field name, or undefined (no body; the rest comes from the query) */
  body: string | undefined;
  /** the response field sent as the body, when the rule names one */
  responseBody: string | undefined;
  method: protobuf.Method;
  /** grpc-js path of the method, /package.Service/Method */
  rpcPath: string;
}

/** google/api/http.proto's HttpRule, as protobufjs parses it from the method options. */
export interface HttpRule {
  selector?: string;
  get?: string;
  put?: string;
  post?: string;
  delete?: string;
  patch?: string;
  custom?: { kind: string; path: string };
  body?: string;
  response_body?: string;
  additional_bindings?: HttpRule | HttpRule[];
}

const VERBS = ['get', 'put', 'post', 'delete', 'patch'] as const;

/**
 * Every HTTP binding of every method of the given services, most specific first. `overrides`
 * replace a method's own annotation, selected by its full name: google.longrunning.Operations
 * is annotated for /v1/operations/**, but Vertex AI serves it under each resource, as its
 * service config says (see vertexOperationsRules).
 */
export function collectRoutes(services: protobuf.Service[], overrides: HttpRule[] = []): HttpRoute[] {
  const bySelector = new Map(overrides.filter((r) => r.selector).map((r) => [r.selector!, r]));
  const routes: HttpRoute[] = [];
  for (const service of services) {
    const serviceName = service.fullName.replace(/^\./, '');
    for (const method of service.methodsArray) {
      if (method.requestStream) continue; // client streaming has no HTTP/JSON mapping
      const selector = `${serviceName}.${method.name}`;
      const rule = bySelector.get(selector) ?? annotation(method);
      if (!rule) continue;
      for (const binding of flatten(rule)) {
        const verb = VERBS.find((v) => typeof binding[v] === 'string');
        const httpMethod = verb ? verb.toUpperCase() : binding.custom?.kind.toUpperCase();
        const path = verb ? binding[verb] : binding.custom?.path;
        if (!httpMethod || !path) continue;
        routes.push({
          httpMethod,
          template: parsePathTemplate(path),
          body: binding.body || undefined,
          responseBody: binding.response_body || undefined,
          method,
          rpcPath: `/${serviceName}/${method.name}`,
        });
      }
    }
  }
  return routes.sort((a, b) => b.template.literals - a.template.literals);
}

function annotation(method: protobuf.Method): HttpRule | undefined {
  for (const opt of method.parsedOptions ?? []) {
    const rule = (opt as Record<string, unknown>)['(google.api.http)'];
    if (rule) return rule as HttpRule;
  }
  return undefined;
}

function flatten(rule: HttpRule): HttpRule[] {
  const extra = rule.additional_bindings;
  return [rule, ...(Array.isArray(extra) ? extra : extra ? [extra] : []).flatMap(flatten)];
}

/**
 * The HTTP rules Vertex AI's service config gives google.longrunning.Operations (and Locations,
 * IAMPolicy): GET /v1/{name=projects/star/locations/star/models/star/operations/star} and so on.
 * They are not in any .proto; the official client ships them as the `httpRules` it hands to
 * its operations client, so they are read from there rather than copied here (the client
 * constructor is stopped right at that call, before it does anything else). The v1beta1
 * bindings are served too: google.longrunning.Operation is the same message in every API
 * version, and gcloud polls some v1 operations (endpoints create) through /v1beta1.
 */
let cachedRules: HttpRule[] | undefined;

export function vertexOperationsRules(): HttpRule[] {
  return (cachedRules ??= readOperationsRules());
}

function readOperationsRules(): HttpRule[] {
  const merged = new Map<string, HttpRule[]>();
  for (const [client, prefix] of [
    [v1.ModelServiceClient, '/v1/'],
    [v1beta1.ModelServiceClient, '/v1beta1/'],
  ] as const) {
    for (const rule of capturedRules(client)) {
      const bindings = flatten(rule).filter((b) => VERBS.some((v) => typeof b[v] === 'string' && b[v]!.startsWith(prefix)));
      merged.set(rule.selector!, [...(merged.get(rule.selector!) ?? []), ...bindings.map((b) => ({ ...b, additional_bindings: undefined }))]);
    }
  }
  return [...merged].filter(([, b]) => b.length).map(([selector, [first, ...rest]]) => ({ ...first, selector, additional_bindings: rest }));
}

function capturedRules(Client: new (opts: never, gaxInstance: never) => unknown): HttpRule[] {
  // The google-gax the client itself loads (it is the client's dependency, not ours).
  const gax = require(require.resolve('google-gax', { paths: [dirname(require.resolve('@google-cloud/aiplatform'))] })) as { fallback: object };
  const stop = new Error('captured');
  let captured: HttpRule[] | undefined;
  const fallback = Object.create(gax.fallback) as Record<string, unknown>;
  fallback.lro = (options: { httpRules?: HttpRule[] }) => {
    captured = options.httpRules;
    throw stop;
  };
  try {
    new Client({ fallback: true, auth: {} } as never, { ...gax, fallback } as never);
  } catch (err) {
    if (err !== stop) throw err;
  }
  return (captured ?? []).filter((r) => r.selector);
}
