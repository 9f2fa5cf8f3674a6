# Races a first `terraform apply` on a new project runs into, which the provider does not retry
# (reported on hashicorp/terraform-provider-google). Each wait is created once: later applies do
# not sleep again unless what it waits for is replaced.

# The Eventarc service agent. Cloud Functions creates the storage triggers' Eventarc triggers
# through it; on a new project the agent, and its role, appear minutes after the API is enabled,
# and the function create fails with "Permission denied while using the Eventarc Service Agent.
# If you recently started to use Eventarc, it may take a few minutes ..." (#25294, #14584).
# Creating the identity and granting its role here makes both exist before anything uses them.
resource "google_project_service_identity" "eventarc" {
  provider   = google-beta
  service    = "eventarc.googleapis.com"
  depends_on = [google_project_service.api]
}

resource "google_project_iam_member" "eventarc_agent" {
  project = var.project
  role    = "roles/eventarc.serviceAgent"
  member  = "serviceAccount:${google_project_service_identity.eventarc.email}"
}

# IAM grants take effect after a delay (up to minutes). The functions, whose creation makes
# Eventarc check the service agents' and the trigger account's permissions and makes Cloud Build
# run as the build account, wait for every grant those checks read. #25294's working
# configuration waits a minute after the agents and a minute after their bindings.
resource "time_sleep" "service_agent_grants" {
  create_duration = "120s"
  depends_on = [
    google_project_iam_member.eventarc_agent,
    google_project_iam_member.gcs_agent_pubsub_publisher,
    google_project_iam_member.trigger_event_receiver,
    google_service_account_iam_member.pubsub_agent_signs_as_trigger,
    google_project_iam_member.build_builder,
    google_storage_bucket_iam_member.build_reads_source,
  ]
}

# A log-based metric is not usable in an alert policy's filter until Cloud Monitoring has its
# descriptor: "Error 404: Cannot find metric(s) that match type = logging.googleapis.com/user/...
# If a metric was created recently, it could take up to 10 minutes to become available" (#11102).
# The wait runs while the functions build (several minutes each), so it costs little on a first
# apply; the triggers re-run it when a metric is added or renamed.
resource "time_sleep" "log_metrics_visible" {
  create_duration = "300s"
  triggers = {
    metrics = join(",", [for m in [google_logging_metric.deployments_stuck, google_logging_metric.results] : m.name])
  }
  depends_on = [google_logging_metric.deployments_stuck, google_logging_metric.results]
}
