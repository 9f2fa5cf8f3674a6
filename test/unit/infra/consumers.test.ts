import { loadTerraform, locals, nested, resource, type TerraformConfig } from './terraform-config';
import { checkConsumerAccess } from './consumer-policy';

let cfg: TerraformConfig;
beforeAll(async () => {
  cfg = await loadTerraform();
});
const broken = (): TerraformConfig => structuredClone(cfg);

describe('consumers of results and model events get subscriber on their topic, nothing broader', () => {
  it('holds for terraform/', () => {
    expect(checkConsumerAccess(cfg)).toEqual([]);
  });

  it('fails when consumers get a wider role', () => {
    const c = broken();
    resource(c, 'google_pubsub_topic_iam_member', 'consumer_subscribes')!.role = 'roles/pubsub.editor';
    expect(checkConsumerAccess(c)).toEqual([expect.stringMatching(/consumers get roles\/pubsub\.subscriber, not roles\/pubsub\.editor/)]);
  });

  it('fails when consumers are granted on the project too', () => {
    const c = broken();
    c.resource.google_project_iam_member!.consumers = [{ for_each: '${local.consumer_grants}', project: '${var.project}', role: 'roles/pubsub.subscriber', member: '${each.value.member}' }];
    expect(checkConsumerAccess(c)).toEqual([
      expect.stringMatching(/google_project_iam_member\.consumers\.for_each: consumers may only be granted by google_pubsub_topic_iam_member\.consumer_subscribes/),
    ]);
  });

  it('fails when result consumers are given the model-events topic', () => {
    const c = broken();
    for (const l of c.locals) if (typeof l.consumer_grants === 'string') l.consumer_grants = l.consumer_grants.replace('topic = "prediction-results"', 'topic = "model-events"');
    expect(locals(c).consumer_grants).toMatch(/result_consumers.*model-events/s);
    expect(checkConsumerAccess(c)).toEqual(['var.result_consumers must be granted on prediction-results, not model-events']);
  });

  it('fails when the BigQuery writer is granted on the dataset or the project', () => {
    const c = broken();
    c.resource.google_bigquery_dataset_iam_member = { writer: [{ role: 'roles/bigquery.dataEditor' }] };
    c.resource.google_project_iam_member!.bq = [{ role: 'roles/bigquery.dataEditor', member: 'x' }];
    expect(checkConsumerAccess(c)).toEqual([expect.stringMatching(/BigQuery roles are granted on the table/), expect.stringMatching(/google_bigquery_dataset_iam_member\.writer/)]);
  });

  it('the BigQuery subscription writes the topic schema with metadata, partitioned by publish time', () => {
    const sub = resource(cfg, 'google_pubsub_subscription', 'results_bigquery')!;
    expect((sub.bigquery_config as unknown[])[0]).toMatchObject({ use_topic_schema: true, write_metadata: true });
    expect(sub.for_each).toBe('${local.results_bigquery}');
    const table = resource(cfg, 'google_bigquery_table', 'results')!;
    expect((table.time_partitioning as unknown[])[0]).toMatchObject({ type: 'DAY', field: 'publish_time' });
    expect(table.schema).toBe('${file("${path.module}/schemas/prediction-results.bigquery.json")}');
  });

  it('each contract topic carries its generated schema with JSON encoding', () => {
    const topic = resource(cfg, 'google_pubsub_topic', 'topic')!;
    const dyn = nested(topic, 'dynamic')!.schema_settings as Array<{ for_each: string; content: Array<Record<string, string>> }>;
    expect(dyn).toHaveLength(1);
    expect(dyn[0]!.for_each).toMatch(/local\.message_schema_topics.*google_pubsub_schema\.message\[each\.key\]\.id/);
    expect(dyn[0]!.content[0]).toEqual({ schema: '${schema_settings.value}', encoding: 'JSON' });
    const schema = resource(cfg, 'google_pubsub_schema', 'message')!;
    expect(schema).toMatchObject({ type: 'PROTOCOL_BUFFER', definition: '${file("${path.module}/schemas/${each.key}.proto")}' });
    expect(locals(cfg).message_schema_topics).toBe('${toset(["prediction-results", "model-events"])}');
  });
});
