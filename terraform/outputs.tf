# Read by the CLI (`terraform output -json`, see docs/deploy-to-gcp.md) and by people.
output "project" {
  value = var.project
}

output "region" {
  value = var.region
}

output "models_bucket" {
  value = google_storage_bucket.models.name
}

output "images_bucket" {
  value = google_storage_bucket.images.name
}

output "topics" {
  description = "Topic names by their logical name in shared/topology.ts."
  value       = { for k, t in google_pubsub_topic.topic : k => t.name }
}

output "model_events_topic" {
  value = google_pubsub_topic.topic["model-events"].name
}

output "prediction_results_topic" {
  value = google_pubsub_topic.topic["prediction-results"].name
}

output "prediction_requests_topic" {
  value = google_pubsub_topic.topic["prediction-requests"].name
}

output "functions" {
  description = "Deployed function names by their logical name."
  value       = { for k, f in google_cloudfunctions2_function.function : k => f.name }
}

output "dead_letter_subscriptions" {
  description = "Pull subscriptions that keep dead letters nothing else consumes."
  value       = { for k, s in google_pubsub_subscription.dead_letter_hold : k => s.name }
}

output "cli_env" {
  description = "The environment the dropship CLI reads to work against this deployment."
  value = {
    GOOGLE_CLOUD_PROJECT      = var.project
    VERTEX_LOCATION           = var.region
    MODELS_BUCKET             = google_storage_bucket.models.name
    IMAGES_BUCKET             = google_storage_bucket.images.name
    MODEL_EVENTS_TOPIC        = google_pubsub_topic.topic["model-events"].name
    PREDICTION_RESULTS_TOPIC  = google_pubsub_topic.topic["prediction-results"].name
    PREDICTION_REQUESTS_TOPIC = google_pubsub_topic.topic["prediction-requests"].name
  }
}
