resource "google_storage_bucket" "models" {
  name                        = local.bucket_names.models
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  # An overwritten or deleted SavedModel file can be recovered; Vertex AI copies what it
  # serves, so only a few older generations are kept.
  versioning {
    enabled = true
  }
  lifecycle_rule {
    condition {
      num_newer_versions = var.models_noncurrent_versions_kept
      with_state         = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  depends_on = [google_project_service.api]
}

resource "google_storage_bucket" "images" {
  name                        = local.bucket_names.images
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  lifecycle_rule {
    condition {
      age = var.images_retention_days
    }
    action {
      type = "Delete"
    }
  }

  depends_on = [google_project_service.api]
}

# Zipped function bundles; Cloud Build reads them to build the functions.
resource "google_storage_bucket" "function_source" {
  name                        = local.bucket_names.source
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true

  lifecycle_rule {
    condition {
      age = 30
    }
    action {
      type = "Delete"
    }
  }

  depends_on = [google_project_service.api]
}

locals {
  data_buckets = {
    models = google_storage_bucket.models
    images = google_storage_bucket.images
  }
}

# Eventarc's storage triggers publish through Pub/Sub as the Cloud Storage service agent.
resource "google_project_iam_member" "gcs_agent_pubsub_publisher" {
  project = var.project
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${data.google_storage_project_service_account.gcs.email_address}"
}

# Vertex AI reads the SavedModel from artifactUri as its own service agent.
resource "google_storage_bucket_iam_member" "vertex_agent_reads_models" {
  bucket = google_storage_bucket.models.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_project_service_identity.aiplatform.email}"
}
