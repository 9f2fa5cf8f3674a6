import { loadTerraform, resource, resources, strings, type TerraformConfig } from './terraform-config';

/**
 * The waits terraform/first-apply.tf puts between things a new project creates and the calls
 * that fail until those have propagated (terraform-provider-google #11102, #25294).
 */
const dependsOn = (block: Record<string, unknown> | undefined): string[] => ((block?.depends_on as string[] | undefined) ?? []).map((r) => r.replace(/^\$\{|\}$/g, ''));

describe('first apply on a new project', () => {
  let cfg: TerraformConfig;
  beforeAll(async () => {
    cfg = await loadTerraform();
  });

  it('makes every alert policy that reads a log-based metric wait until the metrics are visible (#11102)', () => {
    const sleep = resource(cfg, 'time_sleep', 'log_metrics_visible');
    expect(sleep).toBeDefined();
    const metrics = resources(cfg, 'google_logging_metric').map((m) => `google_logging_metric.${m.name}`);
    expect(metrics.length).toBeGreaterThan(0);
    for (const m of metrics) expect(dependsOn(sleep)).toContain(m);
    // a new or renamed metric re-runs the wait
    const triggers = [...strings(sleep!.triggers)].map((s) => s.value).join(' ');
    for (const m of metrics) expect(triggers).toContain(`${m}`);

    const readers = resources(cfg, 'google_monitoring_alert_policy').filter(({ block }) => [...strings(block)].some((s) => s.value.includes('logging.googleapis.com/user/')));
    expect(readers.length).toBeGreaterThan(0);
    for (const { name, block } of readers) expect({ policy: name, dependsOn: dependsOn(block) }).toEqual({ policy: name, dependsOn: expect.arrayContaining(['time_sleep.log_metrics_visible']) });
  });

  it('creates the Eventarc service agent, grants its role, and makes the functions wait for every grant their creation checks (#25294)', () => {
    const identity = resource(cfg, 'google_project_service_identity', 'eventarc');
    expect(identity).toMatchObject({ provider: '${google-beta}', service: 'eventarc.googleapis.com' });
    expect(resource(cfg, 'google_project_iam_member', 'eventarc_agent')).toMatchObject({
      role: 'roles/eventarc.serviceAgent',
      member: 'serviceAccount:${google_project_service_identity.eventarc.email}',
    });
    const sleep = resource(cfg, 'time_sleep', 'service_agent_grants');
    expect(dependsOn(sleep)).toEqual(
      expect.arrayContaining([
        'google_project_iam_member.eventarc_agent',
        'google_project_iam_member.gcs_agent_pubsub_publisher',
        'google_project_iam_member.trigger_event_receiver',
        'google_service_account_iam_member.pubsub_agent_signs_as_trigger',
        'google_project_iam_member.build_builder',
        'google_storage_bucket_iam_member.build_reads_source',
      ]),
    );
    for (const { name, block } of resources(cfg, 'google_cloudfunctions2_function')) {
      expect({ fn: name, dependsOn: dependsOn(block) }).toEqual({ fn: name, dependsOn: expect.arrayContaining(['time_sleep.service_agent_grants']) });
    }
  });
});
