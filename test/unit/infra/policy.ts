import type { Topology } from '#shared/topology';
import { instantiate, isObject, literal, locals, nested, nestedOrDynamic, resolveLocal, resource, resources, strings, type Block, type TerraformConfig } from './terraform-config';

/**
 * Policy checks over terraform/ as parsed by @cdktf/hcl2json. Each takes the parsed config
 * (so a test can hand it a deliberately broken copy) and returns one sentence per violation.
 */

const FUNCTION = 'google_cloudfunctions2_function';

/** for_each instances of a resource: key -> each.value (a single instance is keyed by name). */
function instances(cfg: TerraformConfig, name: string, block: Block): Record<string, unknown> {
  if (block.for_each === undefined) return { [name]: undefined };
  const v = resolveLocal(cfg, block.for_each);
  if (isObject(v)) return v;
  if (Array.isArray(v)) return Object.fromEntries(v.map((k) => [String(k), k]));
  return {};
}

// ---------------------------------------------------------------- dedicated service accounts

export function checkDedicatedServiceAccounts(cfg: TerraformConfig): string[] {
  const problems: string[] = [];
  const owners = new Map<string, string>();
  const accountIds = new Map<string, string>();
  for (const { name, block } of resources(cfg, FUNCTION)) {
    const insts = instances(cfg, name, block);
    if (Object.keys(insts).length === 0) problems.push(`${FUNCTION}.${name}: for_each does not resolve to the topology's functions`);
    const email = nested(block, 'service_config')?.service_account_email;
    const m = typeof email === 'string' ? /^\$\{google_service_account\.([\w-]+)(\[each\.key\])?\.(email|member)\}$/.exec(email) : null;
    if (!m) {
      problems.push(
        `${FUNCTION}.${name}: service_config.service_account_email must name a google_service_account of its own (got ${JSON.stringify(email)}; unset means the shared default compute account)`,
      );
      continue;
    }
    const saName = m[1]!;
    const sa = resource(cfg, 'google_service_account', saName);
    if (!sa) {
      problems.push(`${FUNCTION}.${name}: google_service_account.${saName} does not exist`);
      continue;
    }
    const saInsts = instances(cfg, saName, sa);
    for (const key of Object.keys(insts)) {
      const saKey = m[2] ? key : saName;
      const address = m[2] ? `google_service_account.${saName}["${key}"]` : `google_service_account.${saName}`;
      if (!(saKey in saInsts)) {
        problems.push(`function ${key}: ${address} is not created (its for_each has no "${key}")`);
        continue;
      }
      const fn = `function ${key}`;
      const prior = owners.get(address);
      if (prior) problems.push(`${prior} and ${fn} share the service account ${address}; each function needs its own`);
      else owners.set(address, fn);
      const accountId = typeof sa.account_id === 'string' ? instantiate(sa.account_id, saKey, saInsts[saKey]) : String(sa.account_id);
      const priorId = accountIds.get(accountId);
      if (priorId && priorId !== fn) problems.push(`${priorId} and ${fn} get the same account_id ${accountId}`);
      else accountIds.set(accountId, fn);
    }
  }
  // the runtime accounts must not double as the identity events are delivered with
  for (const { name, block } of resources(cfg, FUNCTION)) {
    const runtime = nested(block, 'service_config')?.service_account_email;
    const trigger = nestedOrDynamic(block, 'event_trigger')?.service_account_email;
    if (trigger !== undefined && trigger === runtime) problems.push(`${FUNCTION}.${name}: the event trigger delivers as the function's own runtime account; use the trigger account`);
  }
  return problems;
}

// ---------------------------------------------------- no primitive roles, no public members

const PRIMITIVE = /\broles\/(owner|editor|viewer)\b/;
const PUBLIC = /\ball(Authenticated)?Users\b/;

export function checkNoPrimitiveRolesOrPublicAccess(cfg: TerraformConfig): string[] {
  const problems: string[] = [];
  for (const { path, value } of strings(cfg)) {
    if (PRIMITIVE.test(value)) problems.push(`${path}: primitive role ${PRIMITIVE.exec(value)![0]} is not allowed; grant a predefined role on the narrowest resource`);
    if (PUBLIC.test(value)) problems.push(`${path}: ${PUBLIC.exec(value)![0]} makes a resource public`);
  }
  for (const type of ['google_project_iam_binding', 'google_project_iam_policy', 'google_storage_bucket_iam_binding', 'google_storage_bucket_iam_policy']) {
    for (const { name } of resources(cfg, type)) problems.push(`${type}.${name}: authoritative IAM replaces grants made outside terraform; use *_iam_member`);
  }
  return problems;
}

// ------------------------------------------------------------- dead letters and retries

export function checkDeadLetterAndRetry(cfg: TerraformConfig): string[] {
  const problems: string[] = [];
  const pushSubs: string[] = [];
  for (const { name, block } of resources(cfg, 'google_pubsub_subscription')) {
    if (!nested(block, 'push_config')) continue;
    pushSubs.push(name);
    const where = `google_pubsub_subscription.${name}`;
    const dlp = nested(block, 'dead_letter_policy');
    if (!dlp?.dead_letter_topic) problems.push(`${where}: a push subscription needs a dead_letter_policy with a dead_letter_topic`);
    const retry = nested(block, 'retry_policy');
    if (!retry?.minimum_backoff || !retry.maximum_backoff) problems.push(`${where}: a push subscription needs a retry_policy with minimum_backoff and maximum_backoff`);
    if (dlp) {
      for (const [key, value] of Object.entries(instances(cfg, name, block))) {
        const raw = dlp.max_delivery_attempts;
        const attempts = Number(typeof raw === 'string' ? instantiate(raw, key, value) : raw);
        if (!(attempts >= 5 && attempts <= 100)) problems.push(`${where}["${key}"]: max_delivery_attempts must be 5-100 (got ${String(raw)})`);
      }
      const grant = resources(cfg, 'google_pubsub_subscription_iam_member').find(
        ({ block: g }) =>
          g.role === 'roles/pubsub.subscriber' &&
          String(g.member).includes('google_project_service_identity.pubsub') &&
          String(g.subscription).includes(`google_pubsub_subscription.${name}[each.key]`) &&
          g.for_each === block.for_each,
      );
      if (!grant)
        problems.push(`${where}: the Pub/Sub service agent needs roles/pubsub.subscriber on every subscription that dead-letters (google_pubsub_subscription_iam_member over the same for_each)`);
    }
  }
  if (pushSubs.some((n) => nested(resource(cfg, 'google_pubsub_subscription', n), 'dead_letter_policy'))) {
    const grant = resources(cfg, 'google_pubsub_topic_iam_member').find(
      ({ block: g }) => g.role === 'roles/pubsub.publisher' && String(g.member).includes('google_project_service_identity.pubsub') && /dead_letter/.test(String(g.for_each)),
    );
    if (!grant) problems.push('the Pub/Sub service agent needs roles/pubsub.publisher on every dead-letter topic (google_pubsub_topic_iam_member over the dead-letter topics)');
  }
  for (const { name, block } of resources(cfg, FUNCTION)) {
    const trigger = nestedOrDynamic(block, 'event_trigger');
    if (!trigger) continue;
    if (trigger.pubsub_topic !== undefined || String(trigger.event_type).includes('pubsub')) {
      problems.push(
        `${FUNCTION}.${name}: an Eventarc Pub/Sub trigger's subscription cannot be given a dead-letter topic from terraform; feed the function from a push subscription with a dead_letter_policy`,
      );
    }
    for (const [key, value] of Object.entries(instances(cfg, name, block))) {
      if (evaluateRetry(trigger.retry_policy, key, value) !== 'RETRY_POLICY_RETRY') {
        problems.push(`function ${key}: its event trigger must have retry_policy = "RETRY_POLICY_RETRY" (got ${JSON.stringify(trigger.retry_policy)})`);
      }
    }
  }
  return problems;
}

/** A literal, or `${each.value.<flag> ? "A" : "B"}` for one instance. */
function evaluateRetry(expr: unknown, key: string, value: unknown): unknown {
  if (typeof expr !== 'string') return expr;
  const m = /^\$\{each\.value\.([\w.]+) \? "(\w+)" : "(\w+)"\}$/.exec(expr);
  if (!m) return instantiate(expr, key, value);
  let cur: unknown = value;
  for (const part of m[1]!.split('.')) cur = isObject(cur) ? cur[part] : undefined;
  return cur === true ? m[2] : m[3];
}

// --------------------------------------------------------------------- topology parity

interface NormalTopology {
  buckets: string[];
  topics: Array<{ name: string; deadLetterTopic: string | null }>;
  functions: Array<Record<string, unknown>>;
  schedules: Array<{ name: string; topic: string; cron: string }>;
}

export function normalizeTopology(t: Topology): NormalTopology {
  return {
    buckets: Object.keys(t.buckets).sort(),
    topics: t.topics.map((x) => ({ name: x.name, deadLetterTopic: x.deadLetterTopic ?? null })).sort(byName),
    functions: t.functions
      .map((f) => ({
        name: f.name,
        source: f.source,
        trigger: f.trigger.kind === 'pubsub' ? { kind: 'pubsub', topic: f.trigger.topic, maxDeliveryAttempts: f.trigger.maxDeliveryAttempts } : { kind: f.trigger.kind, bucket: f.trigger.bucket },
        env: [...f.env].sort(),
        timeoutSeconds: f.timeoutSeconds,
        memory: f.memory,
        concurrency: f.concurrency,
        retryOnFailure: f.retryOnFailure,
      }))
      .sort(byName),
    schedules: t.schedules.map((s) => ({ name: s.name, topic: s.topic, cron: s.cron })).sort(byName),
  };
}

/** local.topology in terraform, in the same shape. */
export function terraformTopology(cfg: TerraformConfig): NormalTopology {
  const t = locals(cfg).topology as Record<string, Record<string, Record<string, unknown>>> | undefined;
  if (!isObject(t)) throw new Error('terraform has no local.topology');
  const trig = (x: Record<string, unknown>) => (x.kind === 'pubsub' ? { kind: 'pubsub', topic: x.topic, maxDeliveryAttempts: x.max_delivery_attempts } : { kind: x.kind, bucket: x.bucket });
  return {
    buckets: [...((t.buckets as unknown as string[]) ?? [])].sort(),
    topics: Object.entries(t.topics ?? {})
      .map(([name, x]) => ({ name, deadLetterTopic: (literal(x.dead_letter_topic) as string | null | undefined) ?? null }))
      .sort(byName),
    functions: Object.entries(t.functions ?? {})
      .map(([name, f]) => ({
        name,
        source: f.source,
        trigger: trig(f.trigger as Record<string, unknown>),
        env: [...((f.env as string[]) ?? [])].sort(),
        timeoutSeconds: f.timeout_seconds,
        memory: f.memory,
        concurrency: f.concurrency,
        retryOnFailure: f.retry_on_failure,
      }))
      .sort(byName),
    schedules: Object.entries(t.schedules ?? {})
      .map(([name, s]) => ({ name, topic: s.topic as string, cron: s.cron as string }))
      .sort(byName),
  };
}

export function checkTopologyParity(cfg: TerraformConfig, code: Topology): string[] {
  const problems: string[] = [];
  let tf: NormalTopology;
  try {
    tf = terraformTopology(cfg);
  } catch (err) {
    return [(err as Error).message];
  }
  const want = normalizeTopology(code);
  if (JSON.stringify(tf.buckets) !== JSON.stringify(want.buckets)) problems.push(`buckets: terraform has ${tf.buckets.join(', ')}, shared/topology.ts has ${want.buckets.join(', ')}`);
  for (const kind of ['topics', 'functions', 'schedules'] as const) {
    const byName = (xs: ReadonlyArray<object>) => new Map<string, unknown>(xs.map((x) => [String((x as { name?: unknown }).name), x]));
    const a = byName(tf[kind]);
    const b = byName(want[kind]);
    for (const [n, x] of b) {
      if (!a.has(n)) problems.push(`${kind}: ${n} is in shared/topology.ts but not in terraform`);
      else if (JSON.stringify(a.get(n)) !== JSON.stringify(x)) problems.push(`${kind}: ${n} differs: terraform ${JSON.stringify(a.get(n))}, shared/topology.ts ${JSON.stringify(x)}`);
    }
    for (const n of a.keys()) if (!b.has(n)) problems.push(`${kind}: ${n} is in terraform but not in shared/topology.ts`);
  }
  const worker = code.functions.find((f) => f.name === 'predict-worker');
  const def = cfg.variable.worker_concurrency?.[0]?.default;
  if (worker && def !== worker.concurrency) problems.push(`variable worker_concurrency defaults to ${String(def)}, shared/topology.ts gives predict-worker ${worker.concurrency}`);
  problems.push(...checkTopologyWiring(cfg));
  return problems;
}

/** The resources really are generated from local.topology (not written out beside it). */
function checkTopologyWiring(cfg: TerraformConfig): string[] {
  const problems: string[] = [];
  const expect = (what: string, actual: unknown, wanted: string | RegExp) => {
    const ok = typeof wanted === 'string' ? actual === wanted : typeof actual === 'string' && wanted.test(actual);
    if (!ok) problems.push(`${what} must be ${String(wanted)} (got ${JSON.stringify(actual)})`);
  };
  const topics = resources(cfg, 'google_pubsub_topic');
  if (topics.length !== 1) problems.push(`topics must come from one google_pubsub_topic over local.topology.topics (found ${topics.length} resources)`);
  for (const { name, block } of topics) expect(`google_pubsub_topic.${name} for_each`, block.for_each, '${local.topology.topics}');
  const fns = resources(cfg, FUNCTION);
  if (fns.length !== 1) problems.push(`functions must come from one ${FUNCTION} over local.topology.functions (found ${fns.length} resources)`);
  for (const { name, block } of fns) {
    expect(`${FUNCTION}.${name} for_each`, block.for_each, '${local.topology.functions}');
    const build = nested(block, 'build_config');
    expect(`${FUNCTION}.${name} build_config.runtime`, build?.runtime, 'nodejs22');
    expect(`${FUNCTION}.${name} build_config.entry_point`, build?.entry_point, '${each.key}');
    const svc = nested(block, 'service_config');
    expect(`${FUNCTION}.${name} service_config.timeout_seconds`, svc?.timeout_seconds, '${each.value.timeout_seconds}');
    expect(`${FUNCTION}.${name} service_config.available_memory`, svc?.available_memory, '${each.value.memory}');
    const trigger = nestedOrDynamic(block, 'event_trigger');
    expect(`${FUNCTION}.${name} event_trigger.event_type`, trigger?.event_type, 'google.cloud.storage.object.v1.finalized');
    const dyn = nested(nested(block, 'dynamic'), 'event_trigger');
    expect(`${FUNCTION}.${name} dynamic event_trigger for_each`, dyn?.for_each, /each\.value\.trigger\.kind == "storage-finalized"/);
    expect(`${FUNCTION}.${name} event_trigger bucket filter`, nested(trigger, 'event_filters')?.value, /event_trigger\.value\.bucket/);
  }
  const push = resources(cfg, 'google_pubsub_subscription').filter(({ block }) => nested(block, 'push_config'));
  if (push.length !== 1) problems.push(`Pub/Sub-triggered functions must be fed by one push google_pubsub_subscription over local.pubsub_functions (found ${push.length})`);
  for (const { name, block } of push) {
    expect(`google_pubsub_subscription.${name} for_each`, block.for_each, '${local.pubsub_functions}');
    expect(`google_pubsub_subscription.${name} topic`, block.topic, /each\.value\.trigger\.topic/);
    expect(`google_pubsub_subscription.${name} push endpoint`, nested(block, 'push_config')?.push_endpoint, new RegExp(`${FUNCTION}\\.\\w+\\[each\\.key\\]\\.service_config\\[0\\]\\.uri`));
    expect(`google_pubsub_subscription.${name} dead_letter_topic`, nested(block, 'dead_letter_policy')?.dead_letter_topic, /local\.topology\.topics\[each\.value\.trigger\.topic\]\.dead_letter_topic/);
    expect(`google_pubsub_subscription.${name} max_delivery_attempts`, nested(block, 'dead_letter_policy')?.max_delivery_attempts, '${each.value.trigger.max_delivery_attempts}');
  }
  expect('local.pubsub_functions', locals(cfg).pubsub_functions, /local\.topology\.functions.*"pubsub"/);
  for (const { name, block } of resources(cfg, 'google_cloud_scheduler_job')) {
    expect(`google_cloud_scheduler_job.${name} for_each`, block.for_each, '${local.topology.schedules}');
    expect(`google_cloud_scheduler_job.${name} schedule`, block.schedule, '${each.value.cron}');
    expect(`google_cloud_scheduler_job.${name} topic`, nested(block, 'pubsub_target')?.topic_name, /each\.value\.topic/);
  }
  return problems;
}

// ------------------------------------------------------------------------ environment

/** Read by our code or the client libraries, but only ever set by the local stack or the platform. */
export const NOT_SET_BY_TERRAFORM: Record<string, string> = {
  VERTEX_API_ENDPOINT: 'unset on Google Cloud: the regional Vertex AI endpoint is used',
  PUBSUB_EMULATOR_HOST: 'local emulator only',
  FIRESTORE_EMULATOR_HOST: 'local emulator only',
  STORAGE_EMULATOR_HOST: 'local emulator only',
  GCLOUD_PROJECT: 'legacy alias the client libraries read; GOOGLE_CLOUD_PROJECT is set',
  PORT: 'set by Cloud Run',
  K_SERVICE: 'set by Cloud Run',
  K_REVISION: 'set by Cloud Run',
  K_CONFIGURATION: 'set by Cloud Run',
  FUNCTION_TARGET: 'set by Cloud Run functions',
  FUNCTION_SIGNATURE_TYPE: 'set by Cloud Run functions',
};

/** Names terraform sets on each function: local.common_env plus its env list, valued from local.env_values. */
export function terraformEnv(cfg: TerraformConfig): { byFunction: Record<string, Set<string>>; problems: string[] } {
  const problems: string[] = [];
  const l = locals(cfg);
  const values = isObject(l.env_values) ? l.env_values : {};
  const common = isObject(l.common_env) ? Object.keys(l.common_env) : [];
  const byFunction: Record<string, Set<string>> = {};
  for (const { name, block } of resources(cfg, FUNCTION)) {
    const expr = JSON.stringify(nested(block, 'service_config')?.environment_variables ?? null);
    const usesCommon = expr.includes('local.common_env');
    if (!/each\.value\.env/.test(expr) || !/local\.env_values\[/.test(expr)) {
      problems.push(`${FUNCTION}.${name}: environment_variables must be built from each.value.env and local.env_values (got ${expr})`);
    }
    for (const [key, value] of Object.entries(instances(cfg, name, block))) {
      const listed = (isObject(value) && Array.isArray(value.env) ? value.env : []) as string[];
      for (const n of listed) if (!(n in values)) problems.push(`function ${key}: env ${n} has no value in local.env_values`);
      byFunction[key] = new Set([...(usesCommon ? common : []), ...listed.filter((n) => n in values)]);
    }
  }
  return { byFunction, problems };
}

export function checkEnvCoverage(cfg: TerraformConfig, reads: Record<string, Iterable<string>>): string[] {
  const { byFunction, problems } = terraformEnv(cfg);
  for (const [fn, names] of Object.entries(reads)) {
    const set = byFunction[fn];
    if (!set) {
      problems.push(`function ${fn} is not deployed by terraform`);
      continue;
    }
    for (const n of names) {
      if (!set.has(n) && !(n in NOT_SET_BY_TERRAFORM)) problems.push(`function ${fn} reads ${n}, which terraform does not set`);
    }
  }
  return problems;
}

// ------------------------------------------------------------------- least privilege

/**
 * The only project-level roles a function may hold: Vertex AI, Firestore and Cloud Monitoring's
 * time series (the canary analysis reads Vertex AI's call counts) have no narrower resource.
 */
export const FUNCTION_PROJECT_ROLES = ['roles/aiplatform.user', 'roles/datastore.user', 'roles/monitoring.viewer'];

/**
 * Each function's grants (local.function_access) are no wider than its wiring: project roles
 * only from FUNCTION_PROJECT_ROLES; publishing on exactly the topics its env names; reading
 * at least every bucket its env names. The IAM resources are generated from function_access.
 */
export function checkLeastPrivilege(cfg: TerraformConfig): string[] {
  const problems: string[] = [];
  const l = locals(cfg);
  const access = (isObject(l.function_access) ? l.function_access : {}) as Record<string, Record<string, unknown>>;
  const values = (isObject(l.env_values) ? l.env_values : {}) as Record<string, unknown>;
  const tfFunctions = (l.topology as { functions?: Record<string, { env?: string[] }> } | undefined)?.functions ?? {};
  for (const fn of Object.keys(tfFunctions)) {
    const a = access[fn];
    if (!a) {
      problems.push(`function ${fn} has no entry in local.function_access`);
      continue;
    }
    for (const role of (a.project_roles as string[]) ?? []) {
      if (!FUNCTION_PROJECT_ROLES.includes(role))
        problems.push(`function ${fn}: project role ${role} is not one a function may hold (${FUNCTION_PROJECT_ROLES.join(', ')}); grant on the resource instead`);
    }
    const env = tfFunctions[fn]?.env ?? [];
    const named = (suffix: string, pattern: RegExp) => env.filter((n) => n.endsWith(suffix)).map((n) => pattern.exec(String(values[n]))?.[1] ?? `?${n}`);
    const reads = (a.reads_buckets as string[]) ?? [];
    for (const b of named('_BUCKET', /local\.bucket_names\.(\w+)/)) if (!reads.includes(b)) problems.push(`function ${fn} is given bucket ${b} but may not read it`);
    const publishes = [...((a.publishes_to as string[]) ?? [])].sort();
    const topics = named('_TOPIC', /local\.topic_names\["([\w-]+)"\]/).sort();
    if (JSON.stringify(publishes) !== JSON.stringify(topics)) problems.push(`function ${fn} may publish to [${publishes.join(', ')}] but its env names the topics [${topics.join(', ')}]`);
  }
  for (const fn of Object.keys(access)) if (!(fn in tfFunctions)) problems.push(`local.function_access has ${fn}, which is not a function`);
  const generated: Array<[string, string, string]> = [
    ['google_project_iam_member', 'function', '${local.function_project_roles}'],
    ['google_storage_bucket_iam_member', 'function_reads', '${local.function_bucket_reads}'],
    ['google_pubsub_topic_iam_member', 'function_publishes', '${local.function_publishes}'],
  ];
  for (const [type, name, forEach] of generated) {
    if (resource(cfg, type, name)?.for_each !== forEach) problems.push(`${type}.${name} must be generated from ${forEach}`);
  }
  return problems;
}

function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
