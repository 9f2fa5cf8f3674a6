locals {
  dashboard_tiles = [
    {
      title = "Prediction requests published (per second)"
      dataSets = [{
        plotType = "LINE"
        timeSeriesQuery = { timeSeriesFilter = {
          filter      = "resource.type=\"pubsub_topic\" AND resource.labels.topic_id=\"${local.topic_names["prediction-requests"]}\" AND metric.type=\"pubsub.googleapis.com/topic/send_message_operation_count\""
          aggregation = { alignmentPeriod = "60s", perSeriesAligner = "ALIGN_RATE", crossSeriesReducer = "REDUCE_SUM" }
        } }
      }]
    },
    {
      title = "Function requests by function and response class (per second)"
      dataSets = [{
        plotType = "STACKED_BAR"
        timeSeriesQuery = { timeSeriesFilter = {
          filter      = "resource.type=\"cloud_run_revision\" AND metric.type=\"run.googleapis.com/request_count\" AND resource.labels.service_name=monitoring.regex.full_match(\"${local.services_regex}\")"
          aggregation = { alignmentPeriod = "60s", perSeriesAligner = "ALIGN_RATE", crossSeriesReducer = "REDUCE_SUM", groupByFields = ["resource.labels.service_name", "metric.labels.response_code_class"] }
        } }
      }]
    },
    {
      title = "Image results by status (per minute)"
      dataSets = [{
        plotType = "STACKED_BAR"
        timeSeriesQuery = { timeSeriesFilter = {
          filter      = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.results.name}\""
          aggregation = { alignmentPeriod = "60s", perSeriesAligner = "ALIGN_SUM", crossSeriesReducer = "REDUCE_SUM", groupByFields = ["metric.labels.status"] }
        } }
      }]
    },
    {
      title = "Vertex AI predict latency, p50 and p95 (ms)"
      dataSets = [for p in ["50", "95"] : {
        plotType       = "LINE"
        legendTemplate = "p${p}"
        timeSeriesQuery = { timeSeriesFilter = {
          filter      = "resource.type=\"aiplatform.googleapis.com/Endpoint\" AND metric.type=\"aiplatform.googleapis.com/prediction/online/prediction_latencies\""
          aggregation = { alignmentPeriod = "60s", perSeriesAligner = "ALIGN_DELTA", crossSeriesReducer = "REDUCE_PERCENTILE_${p}" }
        } }
      }]
    },
    {
      title = "predict-worker request latency, p95 (ms)"
      dataSets = [{
        plotType = "LINE"
        timeSeriesQuery = { timeSeriesFilter = {
          filter      = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"${local.function_services["predict-worker"]}\" AND metric.type=\"run.googleapis.com/request_latencies\""
          aggregation = { alignmentPeriod = "60s", perSeriesAligner = "ALIGN_DELTA", crossSeriesReducer = "REDUCE_PERCENTILE_95" }
        } }
      }]
    },
    {
      title = "Subscription backlog (undelivered messages)"
      dataSets = [{
        plotType = "LINE"
        timeSeriesQuery = { timeSeriesFilter = {
          filter      = "resource.type=\"pubsub_subscription\" AND resource.labels.subscription_id=monitoring.regex.full_match(\"${var.name_prefix}-.*\") AND metric.type=\"pubsub.googleapis.com/subscription/num_undelivered_messages\""
          aggregation = { alignmentPeriod = "60s", perSeriesAligner = "ALIGN_MAX", crossSeriesReducer = "REDUCE_SUM", groupByFields = ["resource.labels.subscription_id"] }
        } }
      }]
    },
    {
      title = "Stuck deployment reports"
      dataSets = [{
        plotType = "STACKED_BAR"
        timeSeriesQuery = { timeSeriesFilter = {
          filter      = "metric.type=\"logging.googleapis.com/user/${google_logging_metric.deployments_stuck.name}\""
          aggregation = { alignmentPeriod = "300s", perSeriesAligner = "ALIGN_SUM", crossSeriesReducer = "REDUCE_SUM", groupByFields = ["metric.labels.model", "metric.labels.state"] }
        } }
      }]
    },
  ]
}

resource "google_monitoring_dashboard" "pipeline" {
  dashboard_json = jsonencode({
    displayName = "${var.name_prefix}: pipeline"
    mosaicLayout = {
      columns = 12
      tiles = [for i, t in local.dashboard_tiles : {
        xPos   = (i % 2) * 6
        yPos   = floor(i / 2) * 4
        width  = 6
        height = 4
        widget = { title = t.title, xyChart = { dataSets = t.dataSets } }
      }]
    }
  })
  depends_on = [google_project_service.api]
}
