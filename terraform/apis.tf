locals {
  required_apis = toset([
    "aiplatform.googleapis.com",
    "artifactregistry.googleapis.com",
    "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com",
    "cloudscheduler.googleapis.com",
    "eventarc.googleapis.com",
    "firestore.googleapis.com",
    "iam.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com",
    "storage.googleapis.com",
  ])
}

resource "google_project_service" "api" {
  for_each = local.required_apis
  service  = each.value
  # Turning an API off on destroy would break anything else in the project that uses it.
  disable_on_destroy = false
}

# Service agents (Google-managed identities) that need grants below; creating the identity
# up front avoids the race where an IAM binding names an agent that does not exist yet.
resource "google_project_service_identity" "pubsub" {
  provider   = google-beta
  service    = "pubsub.googleapis.com"
  depends_on = [google_project_service.api]
}

resource "google_project_service_identity" "aiplatform" {
  provider   = google-beta
  service    = "aiplatform.googleapis.com"
  depends_on = [google_project_service.api]
}

resource "google_project_service_identity" "cloudscheduler" {
  provider   = google-beta
  service    = "cloudscheduler.googleapis.com"
  depends_on = [google_project_service.api]
}

data "google_storage_project_service_account" "gcs" {
  depends_on = [google_project_service.api]
}
