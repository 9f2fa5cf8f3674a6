import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from '@cdktf/hcl2json';

/**
 * terraform/ as @cdktf/hcl2json parses it: every block is an array (HCL allows repeats),
 * expressions stay strings such as "${var.project}", literals stay JSON.
 */
export type Block = Record<string, unknown>;
export interface TerraformConfig {
  resource: Record<string, Record<string, Block[]>>;
  data: Record<string, Record<string, Block[]>>;
  variable: Record<string, Block[]>;
  output: Record<string, Block[]>;
  locals: Block[];
  [key: string]: unknown;
}

export const TERRAFORM_DIR = join(__dirname, '..', '..', '..', 'terraform');

export async function parseTerraformFiles(dir = TERRAFORM_DIR): Promise<Record<string, Record<string, unknown>>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.tf'))
    .sort()) {
    out[file] = await parse(file, readFileSync(join(dir, file), 'utf8'));
  }
  return out;
}

/** The files merged the way terraform reads a module: one namespace per block kind. */
export function mergeFiles(files: Record<string, Record<string, unknown>>): TerraformConfig {
  const merged: Record<string, unknown> = { resource: {}, data: {}, variable: {}, output: {}, locals: [] };
  for (const parsed of Object.values(files)) deepMerge(merged, parsed);
  return merged as TerraformConfig;
}

export async function loadTerraform(dir = TERRAFORM_DIR): Promise<TerraformConfig> {
  return mergeFiles(await parseTerraformFiles(dir));
}

function deepMerge(into: Record<string, unknown>, from: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(from)) {
    const cur = into[k];
    if (Array.isArray(cur) && Array.isArray(v)) into[k] = [...cur, ...v];
    else if (isObject(cur) && isObject(v)) deepMerge(cur, v);
    else into[k] = v;
  }
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** All `locals` blocks as one object. */
export function locals(cfg: TerraformConfig): Record<string, unknown> {
  return Object.assign({}, ...cfg.locals) as Record<string, unknown>;
}

export function resources(cfg: TerraformConfig, type: string): Array<{ name: string; block: Block }> {
  return Object.entries(cfg.resource[type] ?? {}).flatMap(([name, blocks]) => blocks.map((block) => ({ name, block })));
}

export function resource(cfg: TerraformConfig, type: string, name: string): Block | undefined {
  return cfg.resource[type]?.[name]?.[0];
}

/** The first nested block of that name (hcl2json wraps nested blocks in arrays). */
export function nested(block: Block | undefined, name: string): Block | undefined {
  const v = block?.[name];
  if (Array.isArray(v)) return v[0] as Block | undefined;
  return isObject(v) ? v : undefined;
}

/** A nested block written plainly or as `dynamic "<name>" { content { ... } }`. */
export function nestedOrDynamic(block: Block | undefined, name: string): Block | undefined {
  return nested(block, name) ?? nested(nested(nested(block, 'dynamic'), name), 'content');
}

const NULL = '${null}';

/**
 * Follows a plain reference such as "${local.topology.functions}" through the locals to its
 * literal value; undefined when the expression is anything else.
 */
export function resolveLocal(cfg: TerraformConfig, expr: unknown): unknown {
  if (typeof expr !== 'string') return undefined;
  const m = /^\$\{local\.([A-Za-z0-9_.-]+)\}$/.exec(expr);
  if (!m) return undefined;
  let cur: unknown = locals(cfg);
  for (const part of m[1]!.split('.')) {
    if (!isObject(cur)) return undefined;
    cur = cur[part];
  }
  return cur;
}

/** hcl2json renders `null` as "${null}". */
export function literal(v: unknown): unknown {
  return v === NULL ? null : v;
}

/**
 * Substitutes `each.key` and `each.value.<path>` in a template with one for_each instance's
 * key and value; other interpolations are left as written.
 */
export function instantiate(template: string, key: string, value: unknown): string {
  return template.replace(/\$\{each\.(key|value((?:\.[A-Za-z0-9_]+)*))\}/g, (whole, what: string, path: string) => {
    if (what === 'key') return key;
    let cur: unknown = value;
    for (const part of path.split('.').filter(Boolean)) cur = isObject(cur) ? cur[part] : undefined;
    return typeof cur === 'string' || typeof cur === 'number' ? String(cur) : whole;
  });
}

/** Every string anywhere in a parsed value, with a path for messages. */
export function* strings(v: unknown, path = ''): Generator<{ path: string; value: string }> {
  if (typeof v === 'string') yield { path, value: v };
  else if (Array.isArray(v)) for (const [i, x] of v.entries()) yield* strings(x, `${path}[${i}]`);
  else if (isObject(v)) for (const [k, x] of Object.entries(v)) yield* strings(x, path ? `${path}.${k}` : k);
}
