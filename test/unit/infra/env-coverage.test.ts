import type { z } from 'zod';
import { TOPOLOGY } from '#shared/topology';
import { loadTerraform, locals, type TerraformConfig } from './terraform-config';
import { checkEnvCoverage, checkLeastPrivilege } from './policy';
import { scanFunction, scanSource, type SourceUse } from './source-scan';

let cfg: TerraformConfig;
const scans: Record<string, SourceUse> = {};
beforeAll(async () => {
  cfg = await loadTerraform();
  for (const f of TOPOLOGY.functions) scans[f.name] = scanFunction(f.source);
});

/**
 * Names a function reads that must be set: every direct process.env read, and every env-schema
 * key that rejects a missing value. Keys with a default or .optional() are tuning knobs the
 * code may run without (docs/deploy-to-gcp.md), not required of terraform.
 */
function mustBeSet(fn: string): { required: Set<string>; optional: Set<string> } {
  const use = scans[fn]!;
  const optional = new Set<string>();
  for (const { file, name } of use.schemaExports) {
    const schema = (require(file) as Record<string, unknown>)[name] as z.ZodObject;
    for (const [key, field] of Object.entries(schema.shape)) if ((field as z.ZodType).safeParse(undefined).success) optional.add(key);
  }
  const topologyEnv = TOPOLOGY.functions.find((f) => f.name === fn)!.env;
  const required = new Set([...topologyEnv, ...[...use.envNames].filter((n) => !optional.has(n))]);
  return { required, optional: new Set([...optional].filter((n) => !required.has(n))) };
}

describe('the static scan of function sources', () => {
  it('finds direct reads, destructured reads, and the keys of parsed env schemas through extend and spreads', () => {
    const found = scanSource(`
      import { z } from 'zod';
      import type { Foo } from '@google-cloud/storage';
      const int = (d: number) => z.coerce.number().default(d);
      const base = z.object({ GOOGLE_CLOUD_PROJECT: z.string() });
      const more = { EXTRA_FLAG: z.string().optional() };
      export const schema = base.extend({ QUEUE_TOPIC: z.string(), BATCH: int(5), ...more }).strict();
      const unused = z.object({ NEVER_PARSED: z.string() });
      const cfg = parseEnv(schema);
      const level = process.env.LOG_LEVEL ?? process.env['TRACE_SAMPLING'];
      const { REGION_OVERRIDE } = process.env;
      void import('@google-cloud/pubsub');
    `);
    expect([...found.envNames].sort()).toEqual(['LOG_LEVEL', 'REGION_OVERRIDE', 'TRACE_SAMPLING']);
    expect([...found.schemaKeys].sort()).toEqual(['BATCH', 'EXTRA_FLAG', 'GOOGLE_CLOUD_PROJECT', 'QUEUE_TOPIC']);
    expect(found.imports).toEqual(['zod', '@google-cloud/pubsub']);
  });

  it('follows every function into the shared modules it imports, and only there', () => {
    for (const f of TOPOLOGY.functions) {
      const use = scans[f.name]!;
      expect({ fn: f.name, unresolved: use.unresolvedSchemas, foreign: use.foreignImports }).toEqual({ fn: f.name, unresolved: [], foreign: [] });
      expect(use.files.some((p) => p.startsWith('shared/'))).toBe(true);
      expect(use.envNames.has('GOOGLE_CLOUD_PROJECT')).toBe(true);
    }
  });
});

describe('every environment variable a function reads is set by terraform', () => {
  it('holds for every function', () => {
    const reads = Object.fromEntries(TOPOLOGY.functions.map((f) => [f.name, mustBeSet(f.name).required]));
    expect(checkEnvCoverage(cfg, reads)).toEqual([]);
  });

  it('fails when a function starts reading a required variable terraform does not set', () => {
    expect(checkEnvCoverage(cfg, { 'predict-worker': ['GOOGLE_CLOUD_PROJECT', 'ENDPOINT_OVERRIDE'] })).toEqual(['function predict-worker reads ENDPOINT_OVERRIDE, which terraform does not set']);
  });

  it('fails when terraform lists a variable it has no value for', () => {
    const c = structuredClone(cfg);
    for (const l of c.locals) delete (l.env_values as Record<string, unknown> | undefined)?.MODEL_EVENTS_TOPIC;
    const problems = checkEnvCoverage(c, { reconciler: ['MODEL_EVENTS_TOPIC'] });
    expect(problems).toEqual(
      expect.arrayContaining(['function reconciler: env MODEL_EVENTS_TOPIC has no value in local.env_values', 'function reconciler reads MODEL_EVENTS_TOPIC, which terraform does not set']),
    );
  });
});

describe('function grants are no wider than their wiring', () => {
  it('holds for terraform/', () => {
    expect(checkLeastPrivilege(cfg)).toEqual([]);
  });

  it('fails when a function may publish to a topic its env does not name', () => {
    const c = structuredClone(cfg);
    for (const l of c.locals) (l.function_access as Record<string, { publishes_to: string[] }> | undefined)?.reconciler?.publishes_to.push('prediction-requests');
    expect(checkLeastPrivilege(c)).toEqual([expect.stringMatching(/function reconciler may publish to \[model-events, prediction-requests\] but its env names the topics \[model-events\]/)]);
  });

  it('fails on a broad project role', () => {
    const c = structuredClone(cfg);
    for (const l of c.locals) (l.function_access as Record<string, { project_roles: string[] }> | undefined)?.['image-intake']?.project_roles.push('roles/storage.admin');
    expect(checkLeastPrivilege(c)).toEqual([expect.stringMatching(/image-intake: project role roles\/storage.admin is not one a function may hold/)]);
    expect(locals(cfg).function_access).toBeDefined();
  });
});
