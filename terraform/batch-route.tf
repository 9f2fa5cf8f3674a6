# The batch route (docs/labeling.md, "Online, batch or auto"): image-intake writes jsonl
# instance files under _batch/ in the images bucket, Vertex AI's service agent reads them and
# writes the BatchPredictionJob output beside them (the follower reads it with its objectViewer
# grant). objectUser (create, read, overwrite, delete) because a redelivered manifest rewrites
# its instance file and a rerun job rewrites its output files.
resource "google_storage_bucket_iam_member" "intake_writes_batch_files" {
  bucket = google_storage_bucket.images.name
  role   = "roles/storage.objectUser"
  member = google_service_account.function["image-intake"].member
}

resource "google_storage_bucket_iam_member" "vertex_agent_batch_io" {
  bucket = google_storage_bucket.images.name
  role   = "roles/storage.objectUser"
  member = "serviceAccount:${google_project_service_identity.aiplatform.email}"
}
