import { parseLabelExtractor, type LabelExtractor } from '../../support/cloud-logging/label-extractor';
import { parseLoggingQuery, type LoggingQuery } from '../../support/cloud-logging/logging-query';
import { isObject, locals, resolveLocal, resources, type Block, type TerraformConfig } from './terraform-config';

/** A google_logging_metric with its filter and label extractors parsed, names interpolated. */
export interface LogMetric {
  resource: string;
  name: string;
  filterText: string;
  filter: LoggingQuery;
  extractors: Record<string, LabelExtractor>;
  descriptorLabels: string[];
  descriptor: Block;
}

/**
 * The monitoring.tf locals that are expressions, and what they evaluate to. Each is checked
 * against the exact HCL text, so a changed definition fails here instead of being guessed.
 */
const COMPUTED_LOCALS: Record<string, { hcl: string; value: (scope: Scope) => unknown }> = {
  function_services: {
    hcl: '${{ for name, _ in local.topology.functions : name => "${var.name_prefix}-${name}" }}',
    value: (s) => Object.fromEntries(s.functions.map((f) => [f, `${s.prefix}-${f}`])),
  },
  services_regex: {
    hcl: '${var.name_prefix}-(${join("|", keys(local.topology.functions))})',
    // keys() returns a map's keys in lexical order
    value: (s) => `${s.prefix}-(${[...s.functions].sort().join('|')})`,
  },
};

interface Scope {
  cfg: TerraformConfig;
  prefix: string;
  functions: string[];
}

export function scopeOf(cfg: TerraformConfig): Scope {
  const prefix = variableDefault(cfg, 'name_prefix');
  const fns = resolveLocal(cfg, '${local.topology.functions}');
  if (!isObject(fns)) throw new Error('local.topology.functions is not a literal map');
  return { cfg, prefix: String(prefix), functions: Object.keys(fns) };
}

/** The Cloud Run service each function runs as (functions.tf names them `${var.name_prefix}-${each.key}`). */
export function functionServices(cfg: TerraformConfig): Record<string, string> {
  return localValue(scopeOf(cfg), 'function_services') as Record<string, string>;
}

export function logMetrics(cfg: TerraformConfig): LogMetric[] {
  const scope = scopeOf(cfg);
  return resources(cfg, 'google_logging_metric').map(({ name, block }) => {
    const where = `google_logging_metric.${name}`;
    const filterText = interpolate(scope, String(block.filter), where);
    const extractors = Object.fromEntries(Object.entries((block.label_extractors as Record<string, string> | undefined) ?? {}).map(([k, v]) => [k, parseLabelExtractor(v)]));
    const descriptor = (block.metric_descriptor as Block[] | undefined)?.[0] ?? {};
    const descriptorLabels = ((descriptor.labels as Block[] | undefined) ?? []).map((l) => String(l.key));
    return { resource: name, name: interpolate(scope, String(block.name), where), filterText, filter: parseLoggingQuery(filterText), extractors, descriptorLabels, descriptor };
  });
}

/** Substitutes `${...}` references this check knows; any other expression is an error. */
export function interpolate(scope: Scope, text: string, where: string): string {
  return text.replace(/\$\{([^{}]*)\}/g, (_, expr: string) => {
    const e = expr.trim();
    let m = /^var\.([A-Za-z0-9_]+)$/.exec(e);
    if (m) return String(variableDefault(scope.cfg, m[1]!));
    m = /^local\.([A-Za-z0-9_]+)(?:\["([^"]+)"\])?$/.exec(e);
    if (m) {
      const v = localValue(scope, m[1]!);
      const picked = m[2] === undefined ? v : isObject(v) ? v[m[2]] : undefined;
      if (typeof picked !== 'string') throw new Error(`${where}: \${${e}} is not a string this check can evaluate`);
      return picked;
    }
    m = /^google_logging_metric\.([A-Za-z0-9_]+)\.name$/.exec(e);
    if (m) {
      const block = scope.cfg.resource.google_logging_metric?.[m[1]!]?.[0];
      if (!block) throw new Error(`${where}: \${${e}} names no google_logging_metric`);
      return interpolate(scope, String(block.name), where);
    }
    throw new Error(`${where}: cannot evaluate \${${e}}`);
  });
}

function localValue(scope: Scope, name: string): unknown {
  const raw = locals(scope.cfg)[name];
  const computed = COMPUTED_LOCALS[name];
  if (computed) {
    if (raw !== computed.hcl) throw new Error(`local.${name} changed (now ${JSON.stringify(raw)}); update COMPUTED_LOCALS in test/unit/infra/log-metrics.ts to evaluate it`);
    return computed.value(scope);
  }
  if (typeof raw === 'string' && raw.includes('${')) throw new Error(`local.${name} is an expression this check does not evaluate: ${raw}`);
  return raw;
}

function variableDefault(cfg: TerraformConfig, name: string): unknown {
  const v = cfg.variable[name]?.[0];
  if (!v || v.default === undefined) throw new Error(`variable ${name} has no default`);
  return v.default;
}

/** Every place that reads a user-defined (log-based) metric, with the metric labels it names. */
export interface MetricUse {
  where: string;
  /** the metric resource the reference resolves to, or the literal metric name */
  metric: string;
  labels: string[];
}

export function userMetricUses(cfg: TerraformConfig): MetricUse[] {
  const uses: MetricUse[] = [];
  const known = new Map(logMetrics(cfg).map((m) => [m.name, m.resource]));
  const walk = (v: unknown, path: string) => {
    if (Array.isArray(v)) return v.forEach((x, i) => walk(x, `${path}[${i}]`));
    if (!isObject(v)) return;
    for (const [k, x] of Object.entries(v)) {
      if (typeof x !== 'string') continue;
      for (const m of x.matchAll(/logging\.googleapis\.com\/user\/(\$\{google_logging_metric\.([A-Za-z0-9_]+)\.name\}|[A-Za-z0-9_./-]+)/g)) {
        const metric = m[2] ?? known.get(m[1]!) ?? `(no such metric) ${m[1]}`;
        const labels = new Set<string>();
        for (const s of allStrings(v)) for (const l of s.matchAll(/metric\.labels?\.([A-Za-z0-9_]+)/g)) labels.add(l[1]!);
        uses.push({ where: `${path}.${k}`, metric, labels: [...labels] });
      }
    }
    for (const [k, x] of Object.entries(v)) walk(x, path ? `${path}.${k}` : k);
  };
  walk(cfg.resource, 'resource');
  walk(cfg.locals, 'locals');
  return uses;
}

function allStrings(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.flatMap(allStrings);
  if (isObject(v)) return Object.values(v).flatMap(allStrings);
  return [];
}
