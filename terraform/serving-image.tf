# The serving image for TensorFlow SavedModels once Vertex AI's prebuilt TensorFlow images are
# past their end of availability (2.14 and 2.15: 2027-01-14; no newer one is listed), or
# whenever a deploy.json says "serving": "tf-serving": the official TensorFlow Serving image,
# run by Vertex AI as a custom container (docs/deployment.md, "Serving images").
#
# Vertex AI only runs custom images from Artifact Registry. A REMOTE_REPOSITORY over Docker Hub
# is a plain terraform resource: one `terraform apply` makes it, no docker daemon or Cloud Build
# run is needed, and the first pull (Vertex AI ingests the image at UploadModel) fetches the
# pinned tag from Docker Hub and caches it in the project. A Cloud Build mirror step would need
# its own trigger and a run before the first deploy, and would go stale silently.

variable "serving_image_repository" {
  description = "Artifact Registry repository (remote, over Docker Hub) that mirrors the TensorFlow Serving image."
  type        = string
  default     = "dockerhub-mirror"
  validation {
    condition     = can(regex("^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$", var.serving_image_repository))
    error_message = "serving_image_repository must be lowercase letters, digits and hyphens, starting with a letter (an Artifact Registry repository id)."
  }
}

variable "tf_serving_version" {
  description = "The tensorflow/serving tag to serve with (pinned: never latest). GPU deploys use the same tag with -gpu."
  type        = string
  default     = "2.19.1"
  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+$", var.tf_serving_version))
    error_message = "tf_serving_version must be a released version such as 2.19.1, not latest."
  }
}

resource "google_artifact_registry_repository" "serving_images" {
  project       = var.project
  location      = var.region
  repository_id = "${var.name_prefix}-${var.serving_image_repository}"
  format        = "DOCKER"
  mode          = "REMOTE_REPOSITORY"
  description   = "dropship: Docker Hub mirror for the TensorFlow Serving image"
  remote_repository_config {
    description = "Docker Hub"
    docker_repository {
      public_repository = "DOCKER_HUB"
    }
  }
  depends_on = [google_project_service.api]
}

# Vertex AI's service agent pulls the image when a model is uploaded.
resource "google_artifact_registry_repository_iam_member" "serving_images_vertex_reader" {
  project    = var.project
  location   = google_artifact_registry_repository.serving_images.location
  repository = google_artifact_registry_repository.serving_images.name
  role       = "roles/artifactregistry.reader"
  member     = "serviceAccount:${google_project_service_identity.aiplatform.email}"
}

locals {
  # The CPU image; model-drop appends -gpu to the tag for a deploy with an accelerator.
  tf_serving_image = "${var.region}-docker.pkg.dev/${var.project}/${google_artifact_registry_repository.serving_images.repository_id}/tensorflow/serving:${var.tf_serving_version}"
}

output "tf_serving_image" {
  description = "The TensorFlow Serving image model-drop serves SavedModels with (TF_SERVING_IMAGE)."
  value       = local.tf_serving_image
}

# model-drop copies a version's SavedModel to <model>/<version>/.tf-serving/1/ for TensorFlow
# Serving (numbered version folders), so it may write there and only there: objectUser (create,
# and delete, which overwriting on a redelivered event needs) under an IAM condition on the
# object name. Its read access to the bucket comes from local.function_access as before.
resource "google_storage_bucket_iam_member" "model_drop_writes_tf_serving_copy" {
  bucket = google_storage_bucket.models.name
  role   = "roles/storage.objectUser"
  member = google_service_account.function["model-drop"].member
  condition {
    title       = "tf-serving-copy-only"
    description = "objects under <model>/<version>/.tf-serving/"
    expression  = "resource.name.matches(\"^projects/_/buckets/${google_storage_bucket.models.name}/objects/[^/]+/[^/]+/[.]tf-serving/\")"
  }
}
