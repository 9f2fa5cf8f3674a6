locals {
  # the Cloud Run services behind the functions (gen2 functions log and count as Cloud Run)
  function_services = { for name, _ in local.topology.functions : name => "${var.name_prefix}-${name}" }
  services_regex    = "${var.name_prefix}-(${join("|", keys(local.topology.functions))})"

  # every subscription that holds dead letters or feeds a dead-letter consumer
  dead_letter_subscriptions = concat(
    [for t in local.held_dead_letter_topics : "${local.topic_names[t]}-hold"],
    [for name, f in local.pubsub_functions : "${var.name_prefix}-${name}-push" if contains(local.dead_letter_topics, f.trigger.topic)],
  )

  # shared/logging/log-events.ts LOG_EVENTS: the `event` values the functions log
  log_event_deployment_stuck = "deployment-stuck"
  log_event_result_recorded  = "result-recorded"
}

resource "google_logging_metric" "deployments_stuck" {
  name        = "${var.name_prefix}/deployments-stuck"
  description = "Reconciler reports of a model version left in an in-progress state too long."
  filter      = <<-EOT
    resource.type="cloud_run_revision"
    resource.labels.service_name="${local.function_services["reconciler"]}"
    severity>=WARNING
    jsonPayload.event="${local.log_event_deployment_stuck}"
  EOT
  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    unit        = "1"
    labels {
      key        = "model"
      value_type = "STRING"
    }
    labels {
      key        = "state"
      value_type = "STRING"
    }
  }
  label_extractors = {
    model = "EXTRACT(jsonPayload.model)"
    state = "EXTRACT(jsonPayload.state)"
  }
  depends_on = [google_project_service.api]
}

resource "google_logging_metric" "results" {
  name        = "${var.name_prefix}/results"
  description = "Image results stored, by status (OK or ERROR)."
  filter      = <<-EOT
    resource.type="cloud_run_revision"
    resource.labels.service_name=~"^${local.services_regex}$"
    jsonPayload.event="${local.log_event_result_recorded}"
  EOT
  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    unit        = "1"
    labels {
      key        = "status"
      value_type = "STRING"
    }
  }
  label_extractors = {
    status = "EXTRACT(jsonPayload.status)"
  }
  depends_on = [google_project_service.api]
}

resource "google_monitoring_alert_policy" "dead_letter_backlog" {
  display_name = "${var.name_prefix}: dead letters waiting"
  combiner     = "OR"
  documentation {
    content   = "Messages sit on a dead-letter subscription: prediction requests (or, on undeliverable, dead letters the recorder could not record and result messages results-ledger could not flag) failed every delivery attempt. Inspect them with `gcloud pubsub subscriptions pull <subscription> --limit=10` and read the functions' ERROR logs. An unflagged result risks being published a second time after its publish lease; nothing is lost."
    mime_type = "text/markdown"
  }
  dynamic "conditions" {
    for_each = toset(local.dead_letter_subscriptions)
    content {
      display_name = "backlog on ${conditions.value}"
      condition_threshold {
        filter          = "resource.type=\"pubsub_subscription\" AND resource.labels.subscription_id=\"${conditions.value}\" AND metric.type=\"pubsub.googleapis.com/subscription/num_undelivered_messages\""
        comparison      = "COMPARISON_GT"
        threshold_value = 0
        duration        = "${var.dead_letter_backlog_minutes * 60}s"
        aggregations {
          alignment_period   = "60s"
          per_series_aligner = "ALIGN_MAX"
        }
      }
    }
  }
  notification_channels = var.alert_notification_channels
  depends_on            = [google_pubsub_subscription.function_push, google_pubsub_subscription.dead_letter_hold]
}

resource "google_monitoring_alert_policy" "function_errors" {
  display_name = "${var.name_prefix}: function error rate"
  combiner     = "OR"
  documentation {
    content   = "A function answers more than ${var.function_error_ratio * 100}% of its requests with 5xx (a failure the platform retries). Its ERROR logs say why."
    mime_type = "text/markdown"
  }
  conditions {
    display_name = "5xx share of requests per function"
    condition_threshold {
      filter             = "resource.type=\"cloud_run_revision\" AND metric.type=\"run.googleapis.com/request_count\" AND metric.labels.response_code_class=\"5xx\" AND resource.labels.service_name=monitoring.regex.full_match(\"${local.services_regex}\")"
      denominator_filter = "resource.type=\"cloud_run_revision\" AND metric.type=\"run.googleapis.com/request_count\" AND resource.labels.service_name=monitoring.regex.full_match(\"${local.services_regex}\")"
      comparison         = "COMPARISON_GT"
      threshold_value    = var.function_error_ratio
      duration           = "300s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_RATE"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.labels.service_name"]
      }
      denominator_aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_RATE"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.labels.service_name"]
      }
    }
  }
  notification_channels = var.alert_notification_channels
  depends_on            = [google_project_service.api]
}

resource "google_monitoring_alert_policy" "deployments_stuck" {
  display_name = "${var.name_prefix}: deployment stuck"
  combiner     = "OR"
  documentation {
    content   = "A model version has stayed PENDING, VALIDATING, REGISTERING or DEPLOYING longer than a deploy takes. `dropship status <model>` shows its state and history."
    mime_type = "text/markdown"
  }
  conditions {
    display_name = "reconciler reports a stuck version"
    condition_threshold {
      filter          = "resource.type=\"cloud_run_revision\" AND metric.type=\"logging.googleapis.com/user/${google_logging_metric.deployments_stuck.name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["metric.labels.model", "metric.labels.state"]
      }
    }
  }
  alert_strategy {
    auto_close = "3600s"
  }
  notification_channels = var.alert_notification_channels
  # the log-based metric's descriptor must exist first (first-apply.tf)
  depends_on = [time_sleep.log_metrics_visible]
}
