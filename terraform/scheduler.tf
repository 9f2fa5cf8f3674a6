resource "google_cloud_scheduler_job" "schedule" {
  for_each  = local.topology.schedules
  name      = "${var.name_prefix}-${each.key}"
  region    = var.region
  schedule  = each.value.cron
  time_zone = "Etc/UTC"

  pubsub_target {
    topic_name = google_pubsub_topic.topic[each.value.topic].id
    # The Functions Framework only treats a push body as a Pub/Sub message when data is non-empty.
    data = base64encode(jsonencode({ schedule = each.key }))
    attributes = {
      schedule = each.key
    }
  }

  depends_on = [google_pubsub_topic_iam_member.scheduler_agent_publishes]
}

resource "google_pubsub_topic_iam_member" "scheduler_agent_publishes" {
  for_each = toset([for s in local.topology.schedules : s.topic])
  topic    = google_pubsub_topic.topic[each.key].id
  role     = "roles/pubsub.publisher"
  member   = "serviceAccount:${google_project_service_identity.cloudscheduler.email}"
}
