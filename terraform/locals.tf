locals {
  firestore_location = coalesce(var.firestore_location, var.region)

  # Bucket names are global: the project id keeps them unique.
  bucket_names = {
    models = "${var.project}-${var.name_prefix}-models"
    images = "${var.project}-${var.name_prefix}-images"
    source = "${var.project}-${var.name_prefix}-fn-source"
  }

  topic_names = { for t, _ in local.topology.topics : t => "${var.name_prefix}-${t}" }

  # Topics some subscription dead-letters into.
  dead_letter_topics = toset(compact([for t in local.topology.topics : t.dead_letter_topic]))

  storage_functions = { for name, f in local.topology.functions : name => f if f.trigger.kind == "storage-finalized" }
  pubsub_functions  = { for name, f in local.topology.functions : name => f if f.trigger.kind == "pubsub" }

  # Dead-letter topics nothing consumes get a pull subscription that keeps their messages for
  # an operator (a topic without subscriptions drops what is published to it).
  held_dead_letter_topics = setsubtract(local.dead_letter_topics, [for f in local.pubsub_functions : f.trigger.topic])

  # What each function's own service account may do, and nothing more. Project-level roles are
  # only those with no narrower resource (Vertex AI, Firestore); buckets and topics are granted
  # one by one. test/unit/infra/policy.test.ts checks this against what the code uses.
  function_access = {
    "model-drop" = {
      service_account_id = "model-drop"
      project_roles      = ["roles/aiplatform.user", "roles/datastore.user"]
      reads_buckets      = ["models"]
      publishes_to       = ["model-events"]
    }
    "reconciler" = {
      service_account_id = "reconciler"
      # monitoring.viewer: the canary analysis reads Vertex AI's per-deployed-model call counts
      project_roles      = ["roles/aiplatform.user", "roles/datastore.user", "roles/monitoring.viewer"]
      reads_buckets      = []
      publishes_to       = ["model-events"]
    }
    "image-intake" = {
      service_account_id = "image-intake"
      project_roles      = ["roles/datastore.user"]
      reads_buckets      = ["images"]
      publishes_to       = ["prediction-requests", "prediction-results"]
    }
    "predict-worker" = {
      service_account_id = "predict-worker"
      project_roles      = ["roles/aiplatform.user", "roles/datastore.user"]
      reads_buckets      = ["images"]
      publishes_to       = ["prediction-results"]
    }
    "dead-letter-recorder" = {
      service_account_id = "dlq-recorder"
      project_roles      = ["roles/datastore.user"]
      reads_buckets      = []
      publishes_to       = ["prediction-results"]
    }
    "results-ledger" = {
      service_account_id = "results-ledger"
      project_roles      = ["roles/datastore.user"]
      reads_buckets      = []
      publishes_to       = []
    }
    "batch-follower" = {
      service_account_id = "batch-follower"
      project_roles      = ["roles/aiplatform.user", "roles/datastore.user"]
      reads_buckets      = ["images"]
      publishes_to       = ["prediction-results"]
    }
  }

  # Values of every environment variable a function may read; each function gets the names
  # its topology entry lists (plus common_env), so a name missing here fails at plan time.
  env_values = {
    GOOGLE_CLOUD_PROJECT      = var.project
    VERTEX_LOCATION           = var.region
    MODELS_BUCKET             = local.bucket_names.models
    IMAGES_BUCKET             = local.bucket_names.images
    MODEL_EVENTS_TOPIC        = local.topic_names["model-events"]
    PREDICTION_RESULTS_TOPIC  = local.topic_names["prediction-results"]
    PREDICTION_REQUESTS_TOPIC = local.topic_names["prediction-requests"]
    # deploy.json's schema is strict and rejects nulls: leave unset fields out
    DEFAULT_DEPLOY_SPEC     = jsonencode({ for k, v in var.default_deployment_spec : k => v if v != null })
    REQUIRE_COMPLETE_MARKER = tostring(var.require_complete_marker)
    DEFAULT_MODEL           = var.default_model
    TF_SERVING_IMAGE        = local.tf_serving_image # terraform/serving-image.tf
  }
  common_env = {
    LOG_LEVEL = var.log_level
  }

  # Settings a variable may override, per function; the topology holds the defaults.
  function_overrides = {
    "predict-worker" = { concurrency = var.worker_concurrency, max_instances = var.worker_max_instances }
  }
  function_settings = {
    for name, f in local.topology.functions : name => {
      concurrency   = try(local.function_overrides[name].concurrency, f.concurrency)
      max_instances = try(local.function_overrides[name].max_instances, var.function_max_instances)
      # more than one request at a time needs at least one whole vCPU
      cpu = try(local.function_overrides[name].concurrency, f.concurrency) > 1 ? "1" : null
    }
  }

  bundles_dir = coalesce(var.function_bundles_dir, "${path.module}/../dist/function-bundles")
}
