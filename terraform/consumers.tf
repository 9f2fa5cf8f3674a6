# Subscribers as users: the message contract as Pub/Sub schemas on the topics they read, who
# may read them, and an optional BigQuery table every result is written into.
# docs/subscribing.md is the user's side of all this.

variable "result_consumers" {
  description = "Principals (serviceAccount:, group:, user:, principal:, principalSet:) that may subscribe to prediction-results. Each gets roles/pubsub.subscriber on that topic only; the subscription they create lives in their own project, where they need roles/pubsub.editor (or a subscription someone makes for them and roles/pubsub.subscriber on it)."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for m in var.result_consumers : can(regex("^(serviceAccount|group|user|principal|principalSet):[^\\s]+$", m))])
    error_message = "result_consumers must hold IAM principals such as serviceAccount:reader@other-project.iam.gserviceaccount.com or group:data@example.com; public principals are refused."
  }
}

variable "model_event_consumers" {
  description = "Principals that may subscribe to model-events; each gets roles/pubsub.subscriber on that topic only (see result_consumers)."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for m in var.model_event_consumers : can(regex("^(serviceAccount|group|user|principal|principalSet):[^\\s]+$", m))])
    error_message = "model_event_consumers must hold IAM principals such as serviceAccount:deployer@other-project.iam.gserviceaccount.com; public principals are refused."
  }
}

variable "results_bigquery" {
  description = "When dataset_id is set, a BigQuery subscription writes every result message into <dataset_id>.<table_id> (columns from the message contract, partitioned by publish day)."
  type = object({
    dataset_id                = optional(string)
    table_id                  = optional(string, "results")
    location                  = optional(string)
    partition_expiration_days = optional(number)
    deletion_protection       = optional(bool, true)
  })
  default = {}
  validation {
    condition     = var.results_bigquery.dataset_id == null || can(regex("^[A-Za-z0-9_]{1,1024}$", var.results_bigquery.dataset_id))
    error_message = "results_bigquery.dataset_id must be letters, digits and underscores."
  }
  validation {
    condition     = can(regex("^[A-Za-z0-9_]{1,1024}$", var.results_bigquery.table_id))
    error_message = "results_bigquery.table_id must be letters, digits and underscores."
  }
  validation {
    condition     = var.results_bigquery.partition_expiration_days == null || try(var.results_bigquery.partition_expiration_days >= 1, false)
    error_message = "results_bigquery.partition_expiration_days must be at least 1."
  }
}

locals {
  # The topics with a message contract (shared/messages/contract.ts MESSAGE_CONTRACTS).
  message_schema_topics = toset(["prediction-results", "model-events"])

  consumer_grants = merge(
    { for m in var.result_consumers : "prediction-results ${m}" => { topic = "prediction-results", member = m } },
    { for m in var.model_event_consumers : "model-events ${m}" => { topic = "model-events", member = m } },
  )

  results_bigquery = var.results_bigquery.dataset_id != null ? { results = var.results_bigquery } : {}
}

# Generated from the contract by terraform/scripts/generate-message-schemas.ts. A changed
# definition commits a new revision of the same schema; a topic without first/last revision
# settings accepts messages that match any revision, which is why fields are only ever added
# (docs/subscribing.md "Versioning"). Pub/Sub keeps at most 20 revisions per schema.
resource "google_pubsub_schema" "message" {
  for_each   = local.message_schema_topics
  name       = "${var.name_prefix}-${each.key}"
  type       = "PROTOCOL_BUFFER"
  definition = file("${path.module}/schemas/${each.key}.proto")
  depends_on = [google_project_service.api]
}

# Consumers may attach subscriptions to the topic and nothing else: no publishing, no access to
# the project's other topics or subscriptions.
resource "google_pubsub_topic_iam_member" "consumer_subscribes" {
  for_each = local.consumer_grants
  topic    = google_pubsub_topic.topic[each.value.topic].id
  role     = "roles/pubsub.subscriber"
  member   = each.value.member
}

# ---------------------------------------------------------------- results into BigQuery

resource "google_project_service" "bigquery" {
  for_each           = local.results_bigquery
  service            = "bigquery.googleapis.com"
  disable_on_destroy = false
}

resource "google_bigquery_dataset" "results" {
  for_each    = local.results_bigquery
  dataset_id  = each.value.dataset_id
  location    = coalesce(each.value.location, var.region)
  description = "dropship results, written by the Pub/Sub subscription ${var.name_prefix}-results-bigquery"
  depends_on  = [google_project_service.bigquery]
}

resource "google_bigquery_table" "results" {
  for_each    = local.results_bigquery
  dataset_id  = google_bigquery_dataset.results[each.key].dataset_id
  table_id    = each.value.table_id
  description = "One row per result message on ${local.topic_names["prediction-results"]} (docs/subscribing.md)."
  # Generated from the contract beside the topic's schema, so the subscription's use_topic_schema finds every column.
  schema = file("${path.module}/schemas/prediction-results.bigquery.json")

  time_partitioning {
    type          = "DAY"
    field         = "publish_time"
    expiration_ms = each.value.partition_expiration_days == null ? null : each.value.partition_expiration_days * 86400000
  }
  clustering          = ["job", "status"]
  deletion_protection = each.value.deletion_protection
}

# The subscription writes as the Pub/Sub service agent: it may edit this table's data only.
resource "google_bigquery_table_iam_member" "pubsub_agent_writes_results" {
  for_each   = local.results_bigquery
  project    = google_bigquery_table.results[each.key].project
  dataset_id = google_bigquery_table.results[each.key].dataset_id
  table_id   = google_bigquery_table.results[each.key].table_id
  role       = "roles/bigquery.dataEditor"
  member     = "serviceAccount:${google_project_service_identity.pubsub.email}"
}

resource "google_pubsub_subscription" "results_bigquery" {
  for_each = local.results_bigquery
  name     = "${var.name_prefix}-results-bigquery"
  topic    = google_pubsub_topic.topic["prediction-results"].id
  # results only: job-completed announcements stay out of the results table
  filter = "attributes.type = \"result\""

  bigquery_config {
    table            = "${google_bigquery_table.results[each.key].project}.${google_bigquery_table.results[each.key].dataset_id}.${google_bigquery_table.results[each.key].table_id}"
    use_topic_schema = true
    write_metadata   = true
  }

  # a row BigQuery keeps refusing goes where every dead letter goes, held and alerted on
  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.topic["undeliverable"].id
    max_delivery_attempts = 5
  }
  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }
  message_retention_duration = "604800s"
  expiration_policy {
    ttl = ""
  }

  depends_on = [google_bigquery_table_iam_member.pubsub_agent_writes_results, google_pubsub_topic_iam_member.pubsub_agent_dead_letters]
}

# Forwarding a dead letter needs the service agent to acknowledge on the source subscription.
resource "google_pubsub_subscription_iam_member" "pubsub_agent_acks_results_bigquery" {
  for_each     = local.results_bigquery
  subscription = google_pubsub_subscription.results_bigquery[each.key].name
  role         = "roles/pubsub.subscriber"
  member       = "serviceAccount:${google_project_service_identity.pubsub.email}"
}

output "message_schemas" {
  description = "The Pub/Sub schema on each topic subscribers read."
  value       = { for t, s in google_pubsub_schema.message : t => s.id }
}

output "results_bigquery_table" {
  description = "project.dataset.table the BigQuery subscription writes results into (null when results_bigquery is off)."
  value       = try("${google_bigquery_table.results["results"].project}.${google_bigquery_table.results["results"].dataset_id}.${google_bigquery_table.results["results"].table_id}", null)
}
