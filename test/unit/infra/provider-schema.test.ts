import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from '@cdktf/hcl2json';
import { loadProviderSchema, STATED_SCHEMAS, type ProviderSchema } from './provider-schema';
import { checkTerraform, type Finding } from './schema-check';
import { TERRAFORM_DIR, parseTerraformFiles } from './terraform-config';

type Parsed = Record<string, Record<string, unknown>>;

function typesIn(files: Parsed): { resources: Set<string>; dataSources: Set<string> } {
  const resources = new Set<string>();
  const dataSources = new Set<string>();
  for (const p of Object.values(files)) {
    for (const t of Object.keys((p.resource ?? {}) as object)) resources.add(t);
    for (const t of Object.keys((p.data ?? {}) as object)) dataSources.add(t);
  }
  return { resources, dataSources };
}

function blockCount(files: Parsed): number {
  let n = 0;
  for (const p of Object.values(files)) {
    for (const kind of ['resource', 'data'] as const) {
      for (const named of Object.values((p[kind] ?? {}) as Record<string, Record<string, unknown[]>>)) for (const blocks of Object.values(named)) n += blocks.length;
    }
    for (const blocks of Object.values((p.provider ?? {}) as Record<string, unknown[]>)) n += blocks.length;
  }
  return n;
}

const source = (file: string) => readFileSync(join(TERRAFORM_DIR, file), 'utf8');

describe('terraform/ against the google and google-beta provider schema (6.50.0, from @cdktf/provider-google(-beta) 16.12.1)', () => {
  let files: Parsed;
  let schemas: ProviderSchema[];

  beforeAll(async () => {
    files = await parseTerraformFiles();
    const wanted = typesIn(files);
    schemas = [loadProviderSchema('@cdktf/provider-google', wanted), loadProviderSchema('@cdktf/provider-google-beta', wanted), ...STATED_SCHEMAS];
  });

  /** The findings of the tree with one file's text changed (the change must apply). */
  async function findingsWith(file: string, change: (text: string) => string): Promise<Finding[]> {
    const before = source(file);
    const after = change(before);
    expect(after).not.toBe(before);
    return checkTerraform({ ...files, [file]: await parse(file, after) }, schemas).findings;
  }

  it('reads both provider schemas at the pinned version', () => {
    expect(schemas.slice(0, 2).map((s) => `${s.name} ${s.version}`)).toEqual(['google 6.50.0', 'google-beta 6.50.0']);
    expect(schemas[0]!.resources.size).toBeGreaterThan(1000);
    expect(schemas[0]!.resources.has('google_storage_bucket')).toBe(true);
    expect(schemas[0]!.config?.has('project')).toBe(true);
  });

  it('finds every resource, data and provider block valid, and checks every one of them', () => {
    const result = checkTerraform(files, schemas);
    expect(result.findings).toEqual([]);
    expect(result.unchecked).toEqual([]);
    expect(result.checked).toHaveLength(blockCount(files));
    expect(readdirSync(TERRAFORM_DIR).filter((f) => f.endsWith('.tf')).length).toBe(Object.keys(files).length);
  });

  it('pins the providers it checks against: google and google-beta ~> 6.x (6.50.0), archive and time', () => {
    const versions = (files['versions.tf']!.terraform as Array<{ required_providers: Array<Record<string, { source: string; version: string }>> }>)[0]!.required_providers[0]!;
    expect(versions.google).toEqual({ source: 'hashicorp/google', version: '~> 6.0' });
    expect(versions['google-beta']).toEqual({ source: 'hashicorp/google-beta', version: '~> 6.0' });
    expect(versions.archive?.source).toBe('hashicorp/archive');
    expect(versions.time?.source).toBe('hashicorp/time');
    for (const s of schemas.slice(0, 2)) expect(s.version.split('.')[0]).toBe(versions[s.name]!.version.replace('~> ', '').split('.')[0]);
    // every provider a block uses is required
    const used = new Set(checkTerraform(files, schemas).checked.map((c) => c.schema.split(' ')[0]!));
    for (const p of used) expect(Object.keys(versions)).toContain(p);
  });

  describe('fails on broken copies', () => {
    it('a misspelled argument, with the name it probably meant', async () => {
      const f = await findingsWith('storage.tf', (t) => t.replace('uniform_bucket_level_access', 'uniform_bucket_level_acess'));
      expect(f).toContainEqual(expect.objectContaining({ file: 'storage.tf', message: 'uniform_bucket_level_acess: unknown argument or block (did you mean "uniform_bucket_level_access"?)' }));
    });

    it('a misspelled argument inside a dynamic block content', async () => {
      const f = await findingsWith('functions.tf', (t) => t.replace('retry_policy          =', 'retry_polcy           ='));
      expect(f).toContainEqual({
        file: 'functions.tf',
        address: 'google_cloudfunctions2_function.function',
        message: 'event_trigger[dynamic].retry_polcy: unknown argument or block (did you mean "retry_policy"?)',
      });
    });

    it('a misspelled nested block', async () => {
      const f = await findingsWith('functions.tf', (t) => t.replace('storage_source {', 'storage_sorce {'));
      expect(f).toContainEqual(
        expect.objectContaining({ address: 'google_cloudfunctions2_function.function', message: expect.stringMatching(/^build_config\.source\.storage_sorce: unknown argument or block/) }),
      );
    });

    it('a missing required argument', async () => {
      const f = await findingsWith('functions.tf', (t) => t.replace(/^\s*location\s*=\s*var\.region\n/m, ''));
      expect(f).toContainEqual({ file: 'functions.tf', address: 'google_cloudfunctions2_function.function', message: 'location: required argument is missing' });
    });

    it('a missing required argument in a nested block', async () => {
      const f = await findingsWith('functions.tf', (t) => t.replace(/^\s*attribute = "bucket"\n/m, ''));
      expect(f).toContainEqual(expect.objectContaining({ message: 'event_trigger[dynamic].event_filters[0].attribute: required argument is missing' }));
    });

    it('an unknown resource type, and depends_on naming a resource that is not declared', async () => {
      const f = await findingsWith('apis.tf', (t) => t.replace('resource "google_project_service" "api"', 'resource "google_project_servics" "api"'));
      expect(f).toContainEqual({
        file: 'apis.tf',
        address: 'google_project_servics.api',
        message: 'resource type google_project_servics does not exist in provider google 6.50.0 (did you mean "google_project_service"?)',
      });
      expect(f).toContainEqual(expect.objectContaining({ message: 'depends_on: google_project_service.api is not declared' }));
    });

    it('a google-beta-only type without provider = google-beta', async () => {
      const f = await findingsWith('apis.tf', (t) => t.replace(/(resource "google_project_service_identity" "pubsub" \{\n)\s*provider\s*=\s*google-beta\n/, '$1'));
      expect(f).toContainEqual({
        file: 'apis.tf',
        address: 'google_project_service_identity.pubsub',
        message: 'resource type google_project_service_identity exists only in google-beta: set provider = google-beta',
      });
    });

    it('a literal of the wrong type, a block written as an argument, an unknown lifecycle key', async () => {
      const f = await findingsWith('apis.tf', (t) =>
        t.replace('disable_on_destroy = false', 'disable_on_destroy = "no"\n  timeouts = { create = "5m" }\n  lifecycle {\n    prevent_destroys = true\n  }'),
      );
      expect(f).toEqual(
        expect.arrayContaining([
          { file: 'apis.tf', address: 'google_project_service.api', message: 'disable_on_destroy: wants a bool, got "no"' },
          { file: 'apis.tf', address: 'google_project_service.api', message: 'timeouts: is a block; write `timeouts { ... }`, not an argument' },
          { file: 'apis.tf', address: 'google_project_service.api', message: 'lifecycle.prevent_destroys: not a lifecycle argument of a resource block' },
        ]),
      );
    });

    it('a resource of a provider with no schema is listed as not checked', async () => {
      const parsed = await parse('extra.tf', 'resource "random_id" "x" {\n  byte_length = 4\n}\n');
      expect(checkTerraform({ ...files, 'extra.tf': parsed }, schemas).unchecked).toEqual(['random_id.x (provider random: no schema)']);
    });
  });

  it('holds the stated archive and time schemas too', async () => {
    const parsed = await parse('extra.tf', 'resource "time_sleep" "x" {\n  create_duraton = "1s"\n}\ndata "archive_file" "y" {\n  source_dir = "a"\n}\n');
    const messages = checkTerraform({ 'extra.tf': parsed }, schemas).findings.map((x) => `${x.address}: ${x.message}`);
    expect(messages).toEqual([
      'time_sleep.x: create_duraton: unknown argument or block (did you mean "create_duration"?)',
      'data.archive_file.y: type: required argument is missing',
      'data.archive_file.y: output_path: required argument is missing',
    ]);
  });
});
