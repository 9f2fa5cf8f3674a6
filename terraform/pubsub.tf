resource "google_pubsub_topic" "topic" {
  for_each = local.topology.topics
  name     = local.topic_names[each.key]
  # Dead letters wait up to a week for someone to look; other topics need no retention.
  message_retention_duration = contains(local.dead_letter_topics, each.key) ? "604800s" : null

  # The topics subscribers read carry the message contract as a schema (terraform/consumers.tf):
  # Pub/Sub refuses a publish that does not match it.
  dynamic "schema_settings" {
    for_each = contains(local.message_schema_topics, each.key) ? [google_pubsub_schema.message[each.key].id] : []
    content {
      schema   = schema_settings.value
      encoding = "JSON"
    }
  }

  depends_on = [google_project_service.api]
}

# Pub/Sub-triggered functions are fed by push subscriptions terraform owns, not by Eventarc
# Pub/Sub triggers: the subscription Eventarc creates cannot be given a dead-letter policy
# from terraform (hashicorp/terraform-provider-google#25069), and without one an event that
# keeps failing is retried for 24 h and then silently dropped. The Functions Framework turns a
# push request into the same google.cloud.pubsub.topic.v1.messagePublished CloudEvent; the
# endpoint path names the topic, which becomes the event's source.
resource "google_pubsub_subscription" "function_push" {
  for_each = local.pubsub_functions
  name     = "${var.name_prefix}-${each.key}-push"
  topic    = google_pubsub_topic.topic[each.value.trigger.topic].id

  # a delivery stays leased for as long as the function may run on it (Pub/Sub caps it at 600 s)
  ack_deadline_seconds       = min(600, each.value.timeout_seconds)
  message_retention_duration = "604800s"

  push_config {
    push_endpoint = "${google_cloudfunctions2_function.function[each.key].service_config[0].uri}/projects/${var.project}/topics/${local.topic_names[each.value.trigger.topic]}"
    oidc_token {
      service_account_email = google_service_account.trigger.email
      audience              = google_cloudfunctions2_function.function[each.key].service_config[0].uri
    }
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.topic[local.topology.topics[each.value.trigger.topic].dead_letter_topic].id
    max_delivery_attempts = each.value.trigger.max_delivery_attempts
  }

  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }

  expiration_policy {
    ttl = ""
  }

  depends_on = [
    google_pubsub_topic_iam_member.pubsub_agent_dead_letters,
    google_cloud_run_service_iam_member.trigger_invokes,
  ]
}

# Dead-letter topics no function consumes keep their messages here for an operator to read:
#   gcloud pubsub subscriptions pull <name> --limit=10
resource "google_pubsub_subscription" "dead_letter_hold" {
  for_each                   = local.held_dead_letter_topics
  name                       = "${local.topic_names[each.key]}-hold"
  topic                      = google_pubsub_topic.topic[each.key].id
  ack_deadline_seconds       = 60
  message_retention_duration = "604800s"
  expiration_policy {
    ttl = ""
  }
}

# Forwarding to a dead-letter topic is done by the Pub/Sub service agent: it must publish to
# the dead-letter topic and be a subscriber of the source subscription (to acknowledge there).
resource "google_pubsub_topic_iam_member" "pubsub_agent_dead_letters" {
  for_each = local.dead_letter_topics
  topic    = google_pubsub_topic.topic[each.key].id
  role     = "roles/pubsub.publisher"
  member   = "serviceAccount:${google_project_service_identity.pubsub.email}"
}

resource "google_pubsub_subscription_iam_member" "pubsub_agent_acks_source" {
  for_each     = local.pubsub_functions
  subscription = google_pubsub_subscription.function_push[each.key].name
  role         = "roles/pubsub.subscriber"
  member       = "serviceAccount:${google_project_service_identity.pubsub.email}"
}
