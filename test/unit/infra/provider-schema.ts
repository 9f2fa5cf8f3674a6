import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The google and google-beta provider schemas, read from the jsii assembly (`.jsii`, JSON) that
 * @cdktf/provider-google(-beta) ship: it is what their generated bindings were built from, and it
 * names each resource's config interface, every argument and nested block (camelCase, with the
 * registry link whose anchor is the provider's own snake_case name), whether it is optional,
 * and its type. 16.12.1 is generated from provider 6.50.0 (the newest `~> 6.0`).
 */
export type AttrType = 'string' | 'number' | 'bool' | 'list' | 'map' | 'any';
export interface Attr {
  kind: 'attr';
  type: AttrType;
  required: boolean;
}
export interface Block {
  kind: 'block';
  required: boolean;
  /** false: at most one block (max_items = 1) */
  list: boolean;
  body: Body;
}
export type Field = Attr | Block;
export type Body = Map<string, Field>;

export interface ProviderSchema {
  /** the provider's local name in terraform: google, google-beta, archive, time */
  name: string;
  /** the provider version the schema describes */
  version: string;
  resources: Map<string, Body>;
  dataSources: Map<string, Body>;
  /** the provider block's own arguments */
  config?: Body;
}

interface JsiiTypeRef {
  primitive?: string;
  fqn?: string;
  collection?: { kind: 'array' | 'map'; elementtype: JsiiTypeRef };
  union?: { types: JsiiTypeRef[] };
}
interface JsiiProperty {
  name: string;
  optional?: boolean;
  static?: boolean;
  type: JsiiTypeRef;
  docs?: { remarks?: string; summary?: string };
}
interface JsiiType {
  kind: string;
  fqn: string;
  datatype?: boolean;
  docs?: { summary?: string };
  initializer?: { parameters?: Array<{ name: string; type: JsiiTypeRef }> };
  properties?: JsiiProperty[];
}

const REPRESENTS = /Represents a \{@link https:\/\/registry\.terraform\.io\/providers\/hashicorp\/(google(?:-beta)?)\/([\d.]+)\/docs(?:\/(resources|data-sources)\/\w+)? (\w+(?:-beta)?)\}/;

/** The snake_case name the provider uses: the anchor of the property's registry link. */
function terraformName(p: JsiiProperty): string {
  const m = /#([a-z0-9_]+) \w+#/.exec(p.docs?.remarks ?? '');
  return m ? m[1]! : p.name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

const IRESOLVABLE = 'cdktf.IResolvable';

/**
 * Loads the schema of the named resource and data-source types (all names are listed; bodies are
 * built for `wanted` only, so the 100 MB assembly is not held).
 */
export function loadProviderSchema(packageName: '@cdktf/provider-google' | '@cdktf/provider-google-beta', wanted: { resources: Iterable<string>; dataSources: Iterable<string> }): ProviderSchema {
  const pkgDir = dirname(require.resolve(`${packageName}/package.json`));
  const types = (JSON.parse(readFileSync(join(pkgDir, '.jsii'), 'utf8')) as { types: Record<string, JsiiType> }).types;

  const bodies = new Map<string, Body>();
  const bodyOf = (fqn: string): Body => {
    const known = bodies.get(fqn);
    if (known) return known;
    const body: Body = new Map();
    bodies.set(fqn, body);
    for (const p of types[fqn]?.properties ?? []) {
      if (p.static) continue;
      body.set(terraformName(p), fieldOf(p.type, !p.optional));
    }
    return body;
  };
  const isStruct = (ref: JsiiTypeRef): ref is { fqn: string } => !!ref.fqn && !!types[ref.fqn]?.datatype;
  const fieldOf = (ref: JsiiTypeRef, required: boolean): Field => {
    const alternatives = (ref.union?.types ?? [ref]).filter((t) => t.fqn !== IRESOLVABLE);
    const t = alternatives.length === 1 ? alternatives[0]! : { primitive: 'any' };
    if (isStruct(t)) return { kind: 'block', required, list: false, body: bodyOf(t.fqn) };
    if (t.collection?.kind === 'array' && isStruct(t.collection.elementtype)) return { kind: 'block', required, list: true, body: bodyOf(t.collection.elementtype.fqn) };
    if (t.collection) return { kind: 'attr', required, type: t.collection.kind === 'map' ? 'map' : 'list' };
    const type = ({ string: 'string', number: 'number', boolean: 'bool' } as Record<string, AttrType>)[t.primitive ?? ''] ?? 'any';
    return { kind: 'attr', required, type };
  };

  const want = { resources: new Set(wanted.resources), dataSources: new Set(wanted.dataSources) };
  const schema: ProviderSchema = { name: '', version: '', resources: new Map(), dataSources: new Map() };
  for (const t of Object.values(types)) {
    if (t.kind !== 'class') continue;
    const m = REPRESENTS.exec(t.docs?.summary ?? '');
    if (!m) continue;
    const [, provider, version, section, typeName] = m;
    schema.name = provider!;
    schema.version = version!;
    const configFqn = t.initializer?.parameters?.find((p) => p.name === 'config')?.type.fqn;
    const build = () => (configFqn ? bodyOf(configFqn) : new Map<string, Field>());
    if (section === 'resources') schema.resources.set(typeName!, want.resources.has(typeName!) ? build() : new Map());
    else if (section === 'data-sources') schema.dataSources.set(typeName!, want.dataSources.has(typeName!) ? build() : new Map());
    else schema.config = build();
  }
  return schema;
}

// ---- small schemas for the other providers terraform/ uses, stated here --------------------

const a = (type: AttrType, required = false): Attr => ({ kind: 'attr', type, required });
const body = (fields: Record<string, Field>): Body => new Map(Object.entries(fields));

/**
 * hashicorp/archive 2.x `archive_file` and hashicorp/time 0.x `time_sleep`, from their registry
 * docs (registry.terraform.io/providers/hashicorp/archive/latest/docs/data-sources/file,
 * .../hashicorp/time/latest/docs/resources/sleep): every argument, required flags and types.
 */
export const STATED_SCHEMAS: ProviderSchema[] = [
  {
    name: 'archive',
    version: '2.x (stated)',
    resources: new Map(),
    dataSources: new Map([
      [
        'archive_file',
        body({
          type: a('string', true),
          output_path: a('string', true),
          output_file_mode: a('string'),
          source_content: a('string'),
          source_content_filename: a('string'),
          source_file: a('string'),
          source_dir: a('string'),
          excludes: a('list'),
          exclude_symlink_directories: a('bool'),
          source: { kind: 'block', required: false, list: true, body: body({ content: a('string', true), filename: a('string', true) }) },
        }),
      ],
    ]),
  },
  {
    name: 'time',
    version: '0.x (stated)',
    resources: new Map([['time_sleep', body({ create_duration: a('string'), destroy_duration: a('string'), triggers: a('map') })]]),
    dataSources: new Map(),
  },
];
