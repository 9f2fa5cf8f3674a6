import { locals, resources, strings, type TerraformConfig } from './terraform-config';

/**
 * Consumers of results and model events (terraform/consumers.tf) get exactly
 * roles/pubsub.subscriber on the topic they were listed for, and nothing else anywhere; the
 * BigQuery subscription's writer (the Pub/Sub service agent) gets roles/bigquery.dataEditor on
 * the results table only.
 */
const CONSUMER_VARS: Record<string, string> = { result_consumers: 'prediction-results', model_event_consumers: 'model-events' };
const GRANT = { type: 'google_pubsub_topic_iam_member', name: 'consumer_subscribes' };

export function checkConsumerAccess(cfg: TerraformConfig): string[] {
  const problems: string[] = [];
  const grants = locals(cfg).consumer_grants;
  const expr = typeof grants === 'string' ? grants : '';
  if (!expr) problems.push('local.consumer_grants is missing');
  for (const [v, topic] of Object.entries(CONSUMER_VARS)) {
    const m = new RegExp(`for \\w+ in var\\.${v}\\s*:[^\\n]*?topic\\s*=\\s*"([^"]+)"`).exec(expr);
    if (!m) problems.push(`local.consumer_grants does not grant var.${v}`);
    else if (m[1] !== topic) problems.push(`var.${v} must be granted on ${topic}, not ${m[1]}`);
  }
  // the variables and the grants are used by the one topic grant, nowhere else
  const uses = /var\.(result_consumers|model_event_consumers)|local\.consumer_grants/;
  for (const [type, byName] of Object.entries(cfg.resource)) {
    for (const { name, block } of resources(cfg, type)) {
      if (type === GRANT.type && name === GRANT.name) continue;
      for (const { path, value } of strings(block)) if (uses.test(value)) problems.push(`${type}.${name}.${path}: consumers may only be granted by ${GRANT.type}.${GRANT.name}`);
    }
    void byName;
  }
  const grant = resources(cfg, GRANT.type).find((r) => r.name === GRANT.name)?.block;
  if (!grant) problems.push(`${GRANT.type}.${GRANT.name} is missing`);
  else {
    if (grant.for_each !== '${local.consumer_grants}') problems.push(`${GRANT.type}.${GRANT.name} must be generated from local.consumer_grants`);
    if (grant.role !== 'roles/pubsub.subscriber') problems.push(`${GRANT.type}.${GRANT.name}: consumers get roles/pubsub.subscriber, not ${String(grant.role)}`);
    if (grant.topic !== '${google_pubsub_topic.topic[each.value.topic].id}') problems.push(`${GRANT.type}.${GRANT.name}: the grant must be on the consumer's topic, not ${String(grant.topic)}`);
    if (grant.member !== '${each.value.member}') problems.push(`${GRANT.type}.${GRANT.name}: the member must be the listed consumer`);
  }
  problems.push(...checkBigQueryWriter(cfg));
  return problems;
}

function checkBigQueryWriter(cfg: TerraformConfig): string[] {
  const problems: string[] = [];
  for (const { name, block } of resources(cfg, 'google_project_iam_member')) {
    if (String(block.role).startsWith('roles/bigquery.')) problems.push(`google_project_iam_member.${name}: BigQuery roles are granted on the table, not the project`);
  }
  for (const type of [
    'google_bigquery_dataset_iam_member',
    'google_bigquery_dataset_iam_binding',
    'google_bigquery_dataset_iam_policy',
    'google_bigquery_table_iam_binding',
    'google_bigquery_table_iam_policy',
  ]) {
    for (const { name } of resources(cfg, type)) problems.push(`${type}.${name}: the BigQuery subscription needs a member grant on its table only`);
  }
  for (const { name, block } of resources(cfg, 'google_bigquery_table_iam_member')) {
    if (block.role !== 'roles/bigquery.dataEditor') problems.push(`google_bigquery_table_iam_member.${name}: only roles/bigquery.dataEditor, not ${String(block.role)}`);
    if (!/google_project_service_identity\.pubsub\.email/.test(String(block.member))) problems.push(`google_bigquery_table_iam_member.${name}: only the Pub/Sub service agent writes the table`);
  }
  for (const { name, block } of resources(cfg, 'google_pubsub_subscription')) {
    const bq = (block.bigquery_config as Array<Record<string, unknown>> | undefined)?.[0];
    if (bq && bq.use_topic_schema !== true) problems.push(`google_pubsub_subscription.${name}: a BigQuery subscription writes the topic's schema (use_topic_schema = true)`);
  }
  return problems;
}
