import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deploySpecSchema } from '#shared/deployment/core/deploy-spec';

/** The attribute names of `variable "default_deployment_spec"`'s object type in terraform/variables.tf. */
function terraformSpecFields(text: string): string[] {
  const start = text.indexOf('variable "default_deployment_spec"');
  if (start < 0) throw new Error('variables.tf has no default_deployment_spec');
  const body = /type\s*=\s*object\(\{([\s\S]*?)\}\)/.exec(text.slice(start));
  if (!body) throw new Error('default_deployment_spec has no object type');
  return [...body[1]!.matchAll(/^\s*(\w+)\s*=/gm)].map((m) => m[1]!);
}

describe('terraform default_deployment_spec and deploy.json', () => {
  const variables = readFileSync(join(__dirname, '..', '..', '..', 'terraform', 'variables.tf'), 'utf8');

  it('take the same fields (DEFAULT_DEPLOY_SPEC is read with deploy.json’s schema, which refuses unknown fields)', () => {
    // rollout is per version: it judges one canary against what serves beside it, so it is no deployment default
    const schemaFields = Object.keys(deploySpecSchema.shape).filter((k) => k !== 'displayName' && k !== 'rollout');
    expect(terraformSpecFields(variables).sort()).toEqual(schemaFields.sort());
  });

  it('notices a field missing from the terraform type', () => {
    const broken = variables.replace(/^\s*maxInstancesPerCall\s*=.*$/m, '');
    expect(broken).not.toBe(variables);
    expect(terraformSpecFields(variables)).toContain('maxInstancesPerCall');
    expect(terraformSpecFields(broken)).not.toContain('maxInstancesPerCall');
    expect(terraformSpecFields(broken)).toContain('machineType');
  });
});
