# One service account per function, holding only what that function's code does.
resource "google_service_account" "function" {
  for_each     = local.function_access
  account_id   = "${var.name_prefix}-${each.value.service_account_id}"
  display_name = "dropship ${each.key} function"
  description  = "Runtime identity of the ${each.key} function; roles are listed in terraform/locals.tf function_access."
  depends_on   = [google_project_service.api]
}

locals {
  function_project_roles = merge([
    for fn, a in local.function_access : { for role in a.project_roles : "${fn} ${role}" => { function = fn, role = role } }
  ]...)
  function_bucket_reads = merge([
    for fn, a in local.function_access : { for b in a.reads_buckets : "${fn} ${b}" => { function = fn, bucket = b } }
  ]...)
  function_publishes = merge([
    for fn, a in local.function_access : { for t in a.publishes_to : "${fn} ${t}" => { function = fn, topic = t } }
  ]...)
}

# Vertex AI and Firestore have no narrower resource to grant on than the project.
resource "google_project_iam_member" "function" {
  for_each = local.function_project_roles
  project  = var.project
  role     = each.value.role
  member   = google_service_account.function[each.value.function].member
}

resource "google_storage_bucket_iam_member" "function_reads" {
  for_each = local.function_bucket_reads
  bucket   = local.data_buckets[each.value.bucket].name
  role     = "roles/storage.objectViewer"
  member   = google_service_account.function[each.value.function].member
}

resource "google_pubsub_topic_iam_member" "function_publishes" {
  for_each = local.function_publishes
  topic    = google_pubsub_topic.topic[each.value.topic].id
  role     = "roles/pubsub.publisher"
  member   = google_service_account.function[each.value.function].member
}

# The identity Eventarc triggers and Pub/Sub push subscriptions invoke the functions as.
resource "google_service_account" "trigger" {
  account_id   = "${var.name_prefix}-trigger"
  display_name = "dropship event delivery"
  description  = "Eventarc triggers and Pub/Sub push subscriptions call the functions as this account."
  depends_on   = [google_project_service.api]
}

resource "google_project_iam_member" "trigger_event_receiver" {
  project = var.project
  role    = "roles/eventarc.eventReceiver"
  member  = google_service_account.trigger.member
}

resource "google_cloud_run_service_iam_member" "trigger_invokes" {
  for_each = local.topology.functions
  location = var.region
  service  = google_cloudfunctions2_function.function[each.key].name
  role     = "roles/run.invoker"
  member   = google_service_account.trigger.member
}

# Pub/Sub signs the push requests' OIDC tokens as the trigger account.
resource "google_service_account_iam_member" "pubsub_agent_signs_as_trigger" {
  service_account_id = google_service_account.trigger.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = "serviceAccount:${google_project_service_identity.pubsub.email}"
}

# What builds the functions' containers (instead of the Compute Engine default account).
resource "google_service_account" "build" {
  account_id   = "${var.name_prefix}-fn-build"
  display_name = "dropship function builds"
  description  = "Cloud Build runs the functions' buildpack builds as this account."
  depends_on   = [google_project_service.api]
}

resource "google_project_iam_member" "build_builder" {
  project = var.project
  role    = "roles/cloudbuild.builds.builder"
  member  = google_service_account.build.member
}

resource "google_storage_bucket_iam_member" "build_reads_source" {
  bucket = google_storage_bucket.function_source.name
  role   = "roles/storage.objectViewer"
  member = google_service_account.build.member
}
