# The deployed topology, mirroring TOPOLOGY in shared/topology.ts field for field.
# test/unit/infra/topology-parity.test.ts holds the two equal, so edit both together.
# Every per-topic and per-function resource below is generated from these maps.
locals {
  topology = {
    buckets = ["models", "images"]

    topics = {
      "model-events"                   = { dead_letter_topic = null }
      "prediction-results"             = { dead_letter_topic = "undeliverable" }
      "prediction-requests"            = { dead_letter_topic = "prediction-requests-dead-letter" }
      "prediction-requests-dead-letter" = { dead_letter_topic = "undeliverable" }
      "reconcile-ticks"                = { dead_letter_topic = "reconcile-ticks-dead-letter" }
      "reconcile-ticks-dead-letter"    = { dead_letter_topic = null }
      "undeliverable"                  = { dead_letter_topic = null }
    }

    functions = {
      "model-drop" = {
        source           = "model-drop"
        trigger          = { kind = "storage-finalized", bucket = "models" }
        env              = ["GOOGLE_CLOUD_PROJECT", "VERTEX_LOCATION", "MODELS_BUCKET", "MODEL_EVENTS_TOPIC", "REQUIRE_COMPLETE_MARKER", "DEFAULT_DEPLOY_SPEC", "TF_SERVING_IMAGE"]
        timeout_seconds  = 540
        memory           = "512Mi"
        concurrency      = 1
        retry_on_failure = true
      }
      "reconciler" = {
        source           = "reconciler"
        trigger          = { kind = "pubsub", topic = "reconcile-ticks", max_delivery_attempts = 5 }
        env              = ["GOOGLE_CLOUD_PROJECT", "VERTEX_LOCATION", "MODEL_EVENTS_TOPIC"]
        timeout_seconds  = 300
        memory           = "256Mi"
        concurrency      = 1
        retry_on_failure = true
      }
      "image-intake" = {
        source           = "image-intake"
        trigger          = { kind = "storage-finalized", bucket = "images" }
        env              = ["GOOGLE_CLOUD_PROJECT", "VERTEX_LOCATION", "IMAGES_BUCKET", "PREDICTION_REQUESTS_TOPIC", "PREDICTION_RESULTS_TOPIC", "DEFAULT_MODEL"]
        timeout_seconds  = 540
        memory           = "512Mi"
        concurrency      = 1
        retry_on_failure = true
      }
      "predict-worker" = {
        source           = "predict-worker"
        trigger          = { kind = "pubsub", topic = "prediction-requests", max_delivery_attempts = 5 }
        env              = ["GOOGLE_CLOUD_PROJECT", "VERTEX_LOCATION", "PREDICTION_RESULTS_TOPIC"]
        timeout_seconds  = 300
        memory           = "1Gi"
        concurrency      = 16
        retry_on_failure = true
      }
      "dead-letter-recorder" = {
        source           = "dead-letter-recorder"
        trigger          = { kind = "pubsub", topic = "prediction-requests-dead-letter", max_delivery_attempts = 10 }
        env              = ["GOOGLE_CLOUD_PROJECT", "VERTEX_LOCATION", "PREDICTION_RESULTS_TOPIC"]
        timeout_seconds  = 120
        memory           = "256Mi"
        concurrency      = 1
        retry_on_failure = true
      }
      "results-ledger" = {
        source           = "results-ledger"
        trigger          = { kind = "pubsub", topic = "prediction-results", max_delivery_attempts = 5 }
        env              = ["GOOGLE_CLOUD_PROJECT", "VERTEX_LOCATION"]
        timeout_seconds  = 60
        memory           = "256Mi"
        concurrency      = 32
        retry_on_failure = true
      }
      "batch-follower" = {
        source           = "batch-follower"
        trigger          = { kind = "pubsub", topic = "reconcile-ticks", max_delivery_attempts = 5 }
        env              = ["GOOGLE_CLOUD_PROJECT", "VERTEX_LOCATION", "PREDICTION_RESULTS_TOPIC"]
        timeout_seconds  = 540
        memory           = "512Mi"
        concurrency      = 1
        retry_on_failure = true
      }
    }

    schedules = {
      "reconcile" = { topic = "reconcile-ticks", cron = "* * * * *" }
    }
  }
}
