import { parse } from '@cdktf/hcl2json';
import { TOPOLOGY } from '#shared/topology';
import { loadTerraform, parseTerraformFiles, locals, resource, nested, nestedOrDynamic, type TerraformConfig, type Block } from './terraform-config';
import { checkDeadLetterAndRetry, checkDedicatedServiceAccounts, checkNoPrimitiveRolesOrPublicAccess, checkTopologyParity } from './policy';

let cfg: TerraformConfig;
beforeAll(async () => {
  cfg = await loadTerraform();
});

/** A deep copy to break on purpose. */
const broken = (): TerraformConfig => structuredClone(cfg);
const fn = (c: TerraformConfig): Block => resource(c, 'google_cloudfunctions2_function', 'function')!;

describe('terraform/ parses', () => {
  it('every .tf file parses with @cdktf/hcl2json', async () => {
    const files = await parseTerraformFiles();
    expect(Object.keys(files)).toEqual(expect.arrayContaining(['functions.tf', 'pubsub.tf', 'iam.tf', 'topology.tf', 'variables.tf', 'outputs.tf']));
  });

  it('a syntax error is reported, not skipped', async () => {
    await expect(parse('broken.tf', 'resource "google_pubsub_topic" "t" {\n  name = \n}\n')).rejects.toThrow(/broken\.tf/);
  });

  it('pins the google and google-beta providers to 6.x and sets no credentials', () => {
    const providers = (cfg.terraform as Array<{ required_providers: Array<Record<string, { source: string; version: string }>> }>)[0]!.required_providers[0]!;
    expect(providers.google).toEqual({ source: 'hashicorp/google', version: '~> 6.0' });
    expect(providers['google-beta']).toEqual({ source: 'hashicorp/google-beta', version: '~> 6.0' });
    expect(JSON.stringify(cfg.provider)).not.toMatch(/credentials|access_token/);
  });
});

describe('each function has a dedicated service account', () => {
  it('holds for terraform/', () => {
    expect(checkDedicatedServiceAccounts(cfg)).toEqual([]);
  });

  it('fails when the functions share one account', () => {
    const c = broken();
    nested(fn(c), 'service_config')!.service_account_email = '${google_service_account.trigger.email}';
    expect(checkDedicatedServiceAccounts(c)).toEqual(expect.arrayContaining([expect.stringMatching(/share the service account google_service_account\.trigger/)]));
  });

  it('fails when a function runs as the default compute account', () => {
    const c = broken();
    delete nested(fn(c), 'service_config')!.service_account_email;
    expect(checkDedicatedServiceAccounts(c)).toEqual([expect.stringMatching(/default compute account/)]);
  });

  it('fails when a function has no account of its own', () => {
    const c = broken();
    delete (locals(c).function_access as Record<string, unknown>)['predict-worker'];
    for (const l of c.locals) delete (l.function_access as Record<string, unknown> | undefined)?.['predict-worker'];
    expect(checkDedicatedServiceAccounts(c)).toEqual([expect.stringMatching(/function predict-worker: .* is not created/)]);
  });
});

describe('no primitive roles and no public members', () => {
  it('holds for terraform/', () => {
    expect(checkNoPrimitiveRolesOrPublicAccess(cfg)).toEqual([]);
  });

  it('fails on roles/editor anywhere, including a role list in locals', () => {
    const c = broken();
    for (const l of c.locals) (l.function_access as Record<string, { project_roles: string[] }> | undefined)?.reconciler?.project_roles.push('roles/editor');
    expect(checkNoPrimitiveRolesOrPublicAccess(c)).toEqual([expect.stringMatching(/function_access\.reconciler\.project_roles\[3\]: primitive role roles\/editor/)]);
  });

  it('fails on allUsers', () => {
    const c = broken();
    resource(c, 'google_storage_bucket_iam_member', 'vertex_agent_reads_models')!.member = 'allUsers';
    expect(checkNoPrimitiveRolesOrPublicAccess(c)).toEqual([expect.stringMatching(/vertex_agent_reads_models.*allUsers makes a resource public/)]);
  });
});

describe('every push or trigger subscription dead-letters and retries', () => {
  it('holds for terraform/', () => {
    expect(checkDeadLetterAndRetry(cfg)).toEqual([]);
  });

  it('fails when a push subscription has no dead-letter policy', () => {
    const c = broken();
    delete resource(c, 'google_pubsub_subscription', 'function_push')!.dead_letter_policy;
    expect(checkDeadLetterAndRetry(c)).toEqual([expect.stringMatching(/function_push: a push subscription needs a dead_letter_policy/)]);
  });

  it('fails when a push subscription has no retry policy', () => {
    const c = broken();
    delete resource(c, 'google_pubsub_subscription', 'function_push')!.retry_policy;
    expect(checkDeadLetterAndRetry(c)).toEqual([expect.stringMatching(/needs a retry_policy/)]);
  });

  it('fails when the Pub/Sub service agent cannot forward dead letters', () => {
    const c = broken();
    delete c.resource.google_pubsub_topic_iam_member!.pubsub_agent_dead_letters;
    delete c.resource.google_pubsub_subscription_iam_member!.pubsub_agent_acks_source;
    const problems = checkDeadLetterAndRetry(c);
    expect(problems).toEqual(expect.arrayContaining([expect.stringMatching(/roles\/pubsub\.subscriber/), expect.stringMatching(/roles\/pubsub\.publisher on every dead-letter topic/)]));
  });

  it('fails when a storage trigger does not retry', () => {
    const c = broken();
    for (const l of c.locals) {
      const fns = (l.topology as { functions: Record<string, { retry_on_failure: boolean }> } | undefined)?.functions;
      if (fns) fns['image-intake']!.retry_on_failure = false;
    }
    expect(checkDeadLetterAndRetry(c)).toEqual([expect.stringMatching(/function image-intake: its event trigger must have retry_policy = "RETRY_POLICY_RETRY"/)]);
  });

  it('fails on an Eventarc Pub/Sub trigger, whose subscription cannot dead-letter', () => {
    const c = broken();
    const content = nestedOrDynamic(fn(c), 'event_trigger')!;
    content.event_type = 'google.cloud.pubsub.topic.v1.messagePublished';
    content.pubsub_topic = '${google_pubsub_topic.topic["prediction-requests"].id}';
    expect(checkDeadLetterAndRetry(c)).toEqual([expect.stringMatching(/cannot be given a dead-letter topic/)]);
  });
});

describe('the topology in terraform is shared/topology.ts', () => {
  it('holds for terraform/', () => {
    expect(checkTopologyParity(cfg, TOPOLOGY)).toEqual([]);
  });

  it('fails when the code gains a topic terraform lacks', () => {
    const code = structuredClone(TOPOLOGY);
    code.topics.push({ name: 'audit-events', purpose: 'test' });
    expect(checkTopologyParity(cfg, code)).toEqual(['topics: audit-events is in shared/topology.ts but not in terraform']);
  });

  it('fails when a dead-letter pair, a trigger, an env name or a schedule differs', () => {
    const code = structuredClone(TOPOLOGY);
    code.topics.find((t) => t.name === 'reconcile-ticks')!.deadLetterTopic = 'undeliverable';
    const worker = code.functions.find((f) => f.name === 'predict-worker')!;
    worker.env = [...worker.env, 'BATCH_SIZE'];
    const recorder = code.functions.find((f) => f.name === 'dead-letter-recorder')!;
    recorder.trigger = { kind: 'pubsub', topic: 'prediction-requests-dead-letter', maxDeliveryAttempts: 20 };
    code.schedules[0]!.cron = '*/5 * * * *';
    const problems = checkTopologyParity(cfg, code);
    expect(problems).toEqual([
      expect.stringMatching(/^topics: reconcile-ticks differs/),
      expect.stringMatching(/^functions: dead-letter-recorder differs.*"maxDeliveryAttempts":10.*"maxDeliveryAttempts":20/),
      expect.stringMatching(/^functions: predict-worker differs.*BATCH_SIZE/),
      expect.stringMatching(/^schedules: reconcile differs/),
    ]);
  });

  it('fails when resources are written out beside the topology instead of generated from it', () => {
    const c = broken();
    fn(c).for_each = '${local.some_other_map}';
    expect(checkTopologyParity(c, TOPOLOGY)).toEqual(expect.arrayContaining([expect.stringMatching(/for_each must be \$\{local\.topology\.functions\}/)]));
  });
});
