import type { Body, Field, ProviderSchema } from './provider-schema';
import { isObject } from './terraform-config';

/**
 * Holds every resource, data and provider block of terraform/ (as @cdktf/hcl2json parses it:
 * blocks are arrays, expressions are "${...}" strings, literals are JSON) against the provider
 * schemas. The rules, in the order a block meets them:
 *
 *  - the type exists in the provider the block uses (`provider = google-beta` picks google-beta;
 *    a google_* type only google-beta has is reported as needing it); other providers are
 *    checked against a schema stated in provider-schema.ts, or listed as not checked
 *  - meta-arguments are Terraform's (count, for_each, depends_on, provider, lifecycle,
 *    provisioner, connection), lifecycle holds only its own keys, count and for_each are not
 *    both set, and each depends_on entry names a resource or data block that exists
 *  - every other key is an argument or block of the schema (snake_case, at every depth,
 *    `dynamic "<block>" { for_each, iterator, labels, content {...} }` included)
 *  - required arguments and blocks are present (a dynamic block counts as present)
 *  - a block is written as a block (not `x = {...}` or an expression), at most once where the
 *    provider allows one; an argument is not written as a block
 *  - where the value is a literal: strings, numbers and bools where the type says so (with
 *    Terraform's conversions: a number or bool literal converts to string, "12" to number,
 *    "true" to bool), a list for a list, an object for a map
 */
export interface Finding {
  file: string;
  address: string;
  message: string;
}

export interface CheckResult {
  findings: Finding[];
  /** addresses checked, with the schema they were checked against */
  checked: Array<{ address: string; schema: string }>;
  /** addresses no schema covers */
  unchecked: string[];
}

const RESOURCE_META = new Set(['count', 'for_each', 'depends_on', 'provider', 'lifecycle', 'provisioner', 'connection']);
const DATA_META = new Set(['count', 'for_each', 'depends_on', 'provider', 'lifecycle']);
const LIFECYCLE_KEYS = {
  resource: new Set(['create_before_destroy', 'prevent_destroy', 'ignore_changes', 'replace_triggered_by', 'precondition', 'postcondition']),
  data: new Set(['precondition', 'postcondition']),
};
const DYNAMIC_KEYS = new Set(['for_each', 'iterator', 'labels', 'content']);
const PROVIDER_META = new Set(['alias', 'version']);

const isExpression = (v: unknown): boolean => typeof v === 'string' && /\$\{|%\{/.test(v);
const NULL = '${null}';

/** The provider's local name a block uses: its `provider` meta-argument, or its type's prefix. */
export function providerOf(type: string, block: Record<string, unknown>): string {
  const ref = typeof block.provider === 'string' ? /^\$\{([a-z0-9-]+)(?:\.[a-z0-9_-]+)?\}$/.exec(block.provider)?.[1] : undefined;
  return ref ?? type.split('_')[0]!;
}

function distance(x: string, y: string): number {
  const d = Array.from({ length: x.length + 1 }, (_, i) => [i, ...Array<number>(y.length).fill(0)]);
  for (let j = 1; j <= y.length; j++) d[0]![j] = j;
  for (let i = 1; i <= x.length; i++) {
    for (let j = 1; j <= y.length; j++) d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1));
  }
  return d[x.length]![y.length]!;
}

function suggestion(name: string, candidates: Iterable<string>): string {
  let best: string | undefined;
  let bestD = 3;
  for (const c of candidates) {
    const d = distance(name, c);
    if (d < bestD) [best, bestD] = [c, d];
  }
  return best ? ` (did you mean "${best}"?)` : '';
}

/** Problems with one literal value for an argument of that type; none for expressions. */
function literalTypeProblem(field: Field & { kind: 'attr' }, v: unknown): string | undefined {
  if (v === NULL || isExpression(v)) return undefined;
  const shown = JSON.stringify(v);
  switch (field.type) {
    case 'string':
      return typeof v === 'object' ? `wants a string, got ${Array.isArray(v) ? 'a list' : 'an object'}` : undefined;
    case 'number':
      if (typeof v === 'number' || (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)))) return undefined;
      return `wants a number, got ${shown}`;
    case 'bool':
      if (typeof v === 'boolean' || v === 'true' || v === 'false') return undefined;
      return `wants a bool, got ${shown}`;
    case 'list':
      return Array.isArray(v) ? undefined : `wants a list, got ${shown}`;
    case 'map':
      return isObject(v) ? undefined : `wants a map, got ${shown}`;
    default:
      return undefined;
  }
}

/** `dynamic` parses as an object of block name -> blocks, or as a list of such objects. */
function dynamicBlocks(v: unknown): Array<[string, unknown[]]> {
  const objects = Array.isArray(v) ? v : [v];
  return objects.filter(isObject).flatMap((o) => Object.entries(o).map(([name, blocks]) => [name, Array.isArray(blocks) ? blocks : [blocks]] as [string, unknown[]]));
}

function checkBody(body: Record<string, unknown>, schema: Body, path: string, report: (msg: string) => void, meta: Set<string> = new Set()): void {
  const at = (key: string) => (path ? `${path}.${key}` : key);
  const present = new Set(Object.keys(body));
  for (const [name, blocks] of body.dynamic === undefined ? [] : dynamicBlocks(body.dynamic)) {
    const field = schema.get(name);
    if (field?.kind !== 'block') {
      report(`${at(`dynamic "${name}"`)}: ${field ? `"${name}" is an argument, not a block` : `no block "${name}" here${suggestion(name, blockNames(schema))}`}`);
      continue;
    }
    present.add(name);
    for (const [i, d] of blocks.entries()) {
      if (!isObject(d)) continue;
      for (const key of Object.keys(d)) if (!DYNAMIC_KEYS.has(key)) report(`${at(`dynamic "${name}"`)}[${i}]: "${key}" is not an argument of a dynamic block`);
      if (d.for_each === undefined) report(`${at(`dynamic "${name}"`)}[${i}]: for_each is missing`);
      const content = Array.isArray(d.content) ? d.content[0] : d.content;
      if (!isObject(content)) report(`${at(`dynamic "${name}"`)}[${i}]: content block is missing`);
      else checkBody(content, field.body, `${at(name)}[dynamic]`, report);
    }
  }
  for (const [key, v] of Object.entries(body)) {
    if (key === 'dynamic' || meta.has(key)) continue;
    const field = schema.get(key);
    if (!field) {
      report(`${at(key)}: unknown argument or block${suggestion(key, schema.keys())}`);
      continue;
    }
    if (field.kind === 'block') {
      if (!Array.isArray(v) || !v.every(isObject)) {
        report(`${at(key)}: is a block; write \`${key} { ... }\`${isExpression(v) ? ' (or a dynamic block)' : ''}, not an argument`);
        continue;
      }
      if (!field.list && v.length > 1) report(`${at(key)}: at most one "${key}" block is allowed, found ${v.length}`);
      for (const [i, b] of v.entries()) checkBody(b as Record<string, unknown>, field.body, field.list ? `${at(key)}[${i}]` : at(key), report);
      continue;
    }
    if (Array.isArray(v) && v.length > 0 && v.every(isObject) && field.type !== 'list' && field.type !== 'any') {
      report(`${at(key)}: is an argument, not a block`);
      continue;
    }
    const problem = literalTypeProblem(field, v);
    if (problem) report(`${at(key)}: ${problem}`);
  }
  for (const [name, field] of schema) {
    if (field.required && !present.has(name)) report(`${at(name)}: required ${field.kind === 'block' ? 'block' : 'argument'} is missing`);
  }
}

function blockNames(schema: Body): string[] {
  return [...schema].filter(([, f]) => f.kind === 'block').map(([n]) => n);
}

export function checkTerraform(files: Record<string, Record<string, unknown>>, schemas: ProviderSchema[]): CheckResult {
  const result: CheckResult = { findings: [], checked: [], unchecked: [] };
  const byName = new Map(schemas.map((s) => [s.name, s]));
  const declared = new Set<string>();
  for (const parsed of Object.values(files)) {
    for (const [type, named] of Object.entries((parsed.resource ?? {}) as Record<string, unknown>)) for (const name of Object.keys(named as object)) declared.add(`${type}.${name}`);
    for (const [type, named] of Object.entries((parsed.data ?? {}) as Record<string, unknown>)) for (const name of Object.keys(named as object)) declared.add(`data.${type}.${name}`);
  }

  for (const [file, parsed] of Object.entries(files)) {
    for (const kind of ['resource', 'data'] as const) {
      for (const [type, named] of Object.entries((parsed[kind] ?? {}) as Record<string, Record<string, Array<Record<string, unknown>>>>)) {
        for (const [name, blocks] of Object.entries(named)) {
          for (const block of blocks) {
            const address = `${kind === 'data' ? 'data.' : ''}${type}.${name}`;
            const report = (message: string) => result.findings.push({ file, address, message });
            const provider = providerOf(type, block);
            const schema = byName.get(provider);
            if (!schema) {
              result.unchecked.push(`${address} (provider ${provider}: no schema)`);
              continue;
            }
            const table = kind === 'data' ? schema.dataSources : schema.resources;
            const body = table.get(type);
            if (!body) {
              const beta = byName.get('google-beta');
              const onlyInBeta = provider === 'google' && beta && (kind === 'data' ? beta.dataSources : beta.resources).has(type);
              report(
                onlyInBeta
                  ? `${kind} type ${type} exists only in google-beta: set provider = google-beta`
                  : `${kind} type ${type} does not exist in provider ${provider} ${schema.version}${suggestion(type, table.keys())}`,
              );
              continue;
            }
            result.checked.push({ address, schema: `${schema.name} ${schema.version}` });
            checkMeta(block, kind, declared, report);
            checkBody(block, body, '', report, kind === 'data' ? DATA_META : RESOURCE_META);
          }
        }
      }
    }
    for (const [name, blocks] of Object.entries((parsed.provider ?? {}) as Record<string, Record<string, unknown>[]>)) {
      const schema = byName.get(name);
      const address = `provider.${name}`;
      if (!schema?.config) {
        result.unchecked.push(`${address} (no provider schema)`);
        continue;
      }
      result.checked.push({ address, schema: `${schema.name} ${schema.version}` });
      for (const block of blocks) checkBody(block, schema.config, '', (message) => result.findings.push({ file, address, message }), PROVIDER_META);
    }
  }
  return result;
}

function checkMeta(block: Record<string, unknown>, kind: 'resource' | 'data', declared: Set<string>, report: (msg: string) => void): void {
  if (block.count !== undefined && block.for_each !== undefined) report('count and for_each cannot both be set');
  if (block.depends_on !== undefined) {
    if (!Array.isArray(block.depends_on)) report('depends_on: wants a list of references');
    else {
      for (const ref of block.depends_on) {
        const m = typeof ref === 'string' ? /^\$\{((?:data\.)?[a-z0-9_-]+\.[a-z0-9_-]+)\}$/i.exec(ref) : null;
        if (!m) {
          if (!(typeof ref === 'string' && /^\$\{module\.[a-z0-9_-]+\}$/i.test(ref))) report(`depends_on: ${JSON.stringify(ref)} is not a reference to a resource, data block or module`);
        } else if (!declared.has(m[1]!)) report(`depends_on: ${m[1]} is not declared`);
      }
    }
  }
  const lifecycle = Array.isArray(block.lifecycle) ? block.lifecycle : block.lifecycle === undefined ? [] : [block.lifecycle];
  for (const l of lifecycle) {
    if (!isObject(l)) continue;
    for (const key of Object.keys(l)) if (!LIFECYCLE_KEYS[kind].has(key)) report(`lifecycle.${key}: not a lifecycle argument of a ${kind} block`);
  }
}
