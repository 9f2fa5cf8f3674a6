# Each function ships as its own zip: index.js (the function and the modules it imports,
# bundled by esbuild), a package.json listing only the packages index.js requires at run time
# (no devDependencies, so not the `node` binary package), and the lock pruned to match.
# Build them first (docs/deploy-to-gcp.md): npm run bundle:functions
data "archive_file" "function" {
  for_each    = local.topology.functions
  type        = "zip"
  source_dir  = "${local.bundles_dir}/${each.key}"
  output_path = "${local.bundles_dir}/${each.key}.zip"
}

resource "google_storage_bucket_object" "function_source" {
  for_each = local.topology.functions
  # a new name per content, so a changed bundle redeploys the function
  name   = "${each.key}/${data.archive_file.function[each.key].output_md5}.zip"
  bucket = google_storage_bucket.function_source.name
  source = data.archive_file.function[each.key].output_path
}

resource "google_cloudfunctions2_function" "function" {
  for_each    = local.topology.functions
  name        = "${var.name_prefix}-${each.key}"
  location    = var.region
  description = "dropship ${each.key} (functions/${each.value.source})"

  build_config {
    runtime         = "nodejs22"
    entry_point     = each.key
    service_account = google_service_account.build.id
    source {
      storage_source {
        bucket = google_storage_bucket.function_source.name
        object = google_storage_bucket_object.function_source[each.key].name
      }
    }
  }

  service_config {
    service_account_email            = google_service_account.function[each.key].email
    available_memory                 = each.value.memory
    available_cpu                    = local.function_settings[each.key].cpu
    timeout_seconds                  = each.value.timeout_seconds
    max_instance_request_concurrency = local.function_settings[each.key].concurrency
    min_instance_count               = 0
    max_instance_count               = local.function_settings[each.key].max_instances
    # Only Eventarc and Pub/Sub (internal callers in this project) reach the functions.
    ingress_settings               = "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision = true
    environment_variables = merge(
      local.common_env,
      { for k in each.value.env : k => local.env_values[k] },
    )
  }

  # Storage-triggered functions get an Eventarc trigger with retries on (bounded by the 24 h
  # retention of Eventarc's subscription). Pub/Sub-triggered functions are fed by
  # google_pubsub_subscription.function_push instead (see pubsub.tf for why).
  dynamic "event_trigger" {
    for_each = each.value.trigger.kind == "storage-finalized" ? [each.value.trigger] : []
    content {
      trigger_region        = var.region
      event_type            = "google.cloud.storage.object.v1.finalized"
      retry_policy          = each.value.retry_on_failure ? "RETRY_POLICY_RETRY" : "RETRY_POLICY_DO_NOT_RETRY"
      service_account_email = google_service_account.trigger.email
      event_filters {
        attribute = "bucket"
        value     = local.data_buckets[event_trigger.value.bucket].name
      }
    }
  }

  depends_on = [
    google_project_service.api,
    google_project_iam_member.function,
    google_storage_bucket_iam_member.function_reads,
    google_pubsub_topic_iam_member.function_publishes,
    google_project_iam_member.trigger_event_receiver,
    google_project_iam_member.gcs_agent_pubsub_publisher,
    google_project_iam_member.build_builder,
    google_storage_bucket_iam_member.build_reads_source,
    google_firestore_database.default,
    time_sleep.service_agent_grants,
  ]
}
