variable "project" {
  description = "The Google Cloud project id everything is created in."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project))
    error_message = "project must be a project id: 6-30 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "region" {
  description = "Region of the buckets, functions, Vertex AI resources and the scheduler job."
  type        = string
  default     = "us-central1"
  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "region must be a Google Cloud region such as us-central1."
  }
}

variable "firestore_location" {
  description = "Location of the Firestore database: a region (default: var.region) or a multi-region such as nam5."
  type        = string
  default     = null
  validation {
    condition     = var.firestore_location == null || can(regex("^([a-z]+-[a-z]+[0-9]+|nam[0-9]+|eur[0-9]+)$", var.firestore_location))
    error_message = "firestore_location must be a region (us-central1) or a Firestore multi-region (nam5, eur3)."
  }
}

variable "name_prefix" {
  description = "Prefix of every resource name (topics, functions, service accounts, buckets), so several deployments can share a project."
  type        = string
  default     = "dropship"
  validation {
    # service account ids are at most 30 characters: prefix + "-" + the longest short name (14)
    condition     = can(regex("^[a-z][a-z0-9-]{0,13}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 2-15 lowercase letters, digits or hyphens, start with a letter and not end with a hyphen."
  }
}

variable "default_deployment_spec" {
  description = "How a model version is served when its folder has no deploy.json (the same fields deploy.json takes)."
  type = object({
    machineType              = optional(string, "n1-standard-2")
    acceleratorType          = optional(string)
    acceleratorCount         = optional(number)
    minReplicaCount          = optional(number, 1)
    maxReplicaCount          = optional(number)
    autoscalingTargetPercent = optional(number, 60)
    traffic                  = optional(string, "replace")
    serving                  = optional(string) # prebuilt | tf-serving; unset: by the date (docs/deployment.md)
    containerImageUri        = optional(string)
    maxInstancesPerCall      = optional(number)
  })
  default = {}
  validation {
    condition     = can(regex("^[a-z0-9]+(-[a-z0-9]+)+$", var.default_deployment_spec.machineType))
    error_message = "default_deployment_spec.machineType must be a machine type such as n1-standard-4."
  }
  validation {
    condition     = var.default_deployment_spec.minReplicaCount >= 1 && floor(var.default_deployment_spec.minReplicaCount) == var.default_deployment_spec.minReplicaCount
    error_message = "default_deployment_spec.minReplicaCount must be a whole number >= 1 (Vertex AI v1 cannot scale to zero)."
  }
  validation {
    condition     = var.default_deployment_spec.maxReplicaCount == null || try(var.default_deployment_spec.maxReplicaCount >= var.default_deployment_spec.minReplicaCount, false)
    error_message = "default_deployment_spec.maxReplicaCount must not be below minReplicaCount."
  }
  validation {
    condition     = var.default_deployment_spec.autoscalingTargetPercent >= 1 && var.default_deployment_spec.autoscalingTargetPercent <= 100
    error_message = "default_deployment_spec.autoscalingTargetPercent must be between 1 and 100."
  }
  validation {
    condition     = var.default_deployment_spec.maxInstancesPerCall == null || try(var.default_deployment_spec.maxInstancesPerCall >= 1 && var.default_deployment_spec.maxInstancesPerCall <= 1000 && floor(var.default_deployment_spec.maxInstancesPerCall) == var.default_deployment_spec.maxInstancesPerCall, false)
    error_message = "default_deployment_spec.maxInstancesPerCall must be a whole number from 1 to 1000."
  }
  validation {
    condition     = can(regex("^(replace|canary:([1-9]|[1-9][0-9]))$", var.default_deployment_spec.traffic))
    error_message = "default_deployment_spec.traffic must be 'replace' or 'canary:<1-99>'."
  }
  validation {
    condition     = (var.default_deployment_spec.acceleratorCount == null) || (var.default_deployment_spec.acceleratorType != null)
    error_message = "default_deployment_spec.acceleratorCount needs acceleratorType."
  }
}

variable "default_model" {
  description = "The model whose endpoint labels an image job that names none (no _job.json, no model in the manifest)."
  type        = string
  default     = "default"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,62}$", var.default_model))
    error_message = "default_model must be a model folder name: lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "require_complete_marker" {
  description = "When true, a model version deploys only after its _COMPLETE marker lands (the CLI writes it last)."
  type        = bool
  default     = false
}

variable "worker_concurrency" {
  description = "Prediction requests one predict-worker instance handles at once (Cloud Run functions allow 1-1000; above 1 the worker gets a whole vCPU)."
  type        = number
  default     = 16
  validation {
    condition     = var.worker_concurrency >= 1 && var.worker_concurrency <= 1000 && floor(var.worker_concurrency) == var.worker_concurrency
    error_message = "worker_concurrency must be a whole number from 1 to 1000."
  }
}

variable "worker_max_instances" {
  description = "Upper bound on predict-worker instances; with worker_concurrency it caps the calls in flight to Vertex AI (mind the 30,000 predictions/min quota)."
  type        = number
  default     = 20
  validation {
    condition     = var.worker_max_instances >= 1 && var.worker_max_instances <= 1000 && floor(var.worker_max_instances) == var.worker_max_instances
    error_message = "worker_max_instances must be a whole number from 1 to 1000."
  }
}

variable "function_max_instances" {
  description = "Upper bound on instances of every other function."
  type        = number
  default     = 10
  validation {
    condition     = var.function_max_instances >= 1 && var.function_max_instances <= 1000 && floor(var.function_max_instances) == var.function_max_instances
    error_message = "function_max_instances must be a whole number from 1 to 1000."
  }
}

variable "images_retention_days" {
  description = "Images (and manifests) are deleted from the images bucket this many days after upload; results stay in Firestore."
  type        = number
  default     = 30
  validation {
    condition     = var.images_retention_days >= 1 && var.images_retention_days <= 3650
    error_message = "images_retention_days must be between 1 and 3650."
  }
}

variable "models_noncurrent_versions_kept" {
  description = "Older generations of each overwritten object kept in the (versioned) models bucket."
  type        = number
  default     = 3
  validation {
    condition     = var.models_noncurrent_versions_kept >= 1 && var.models_noncurrent_versions_kept <= 100
    error_message = "models_noncurrent_versions_kept must be between 1 and 100."
  }
}

variable "function_bundles_dir" {
  description = "Folder holding one built bundle per function (<dir>/<function>/index.js + package.json + package-lock.json), built by `npm run bundle:functions` (terraform/scripts/bundle-functions.ts)."
  type        = string
  default     = null
}

variable "log_level" {
  description = "Lowest severity the functions log (DEBUG, INFO, NOTICE, WARNING, ERROR)."
  type        = string
  default     = "INFO"
  validation {
    condition     = contains(["DEBUG", "INFO", "NOTICE", "WARNING", "ERROR"], var.log_level)
    error_message = "log_level must be one of DEBUG, INFO, NOTICE, WARNING, ERROR."
  }
}

variable "alert_notification_channels" {
  description = "Cloud Monitoring notification channel ids (projects/P/notificationChannels/N) the alert policies notify."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for c in var.alert_notification_channels : can(regex("^projects/[^/]+/notificationChannels/[0-9]+$", c))])
    error_message = "alert_notification_channels must hold ids like projects/P/notificationChannels/123."
  }
}

variable "dead_letter_backlog_minutes" {
  description = "How long a dead-letter subscription may hold messages before the backlog alert fires."
  type        = number
  default     = 10
  validation {
    condition     = var.dead_letter_backlog_minutes >= 1 && var.dead_letter_backlog_minutes <= 1440
    error_message = "dead_letter_backlog_minutes must be between 1 and 1440."
  }
}

variable "function_error_ratio" {
  description = "Share of a function's requests answered with 5xx (failed, to be retried) above which the error-rate alert fires."
  type        = number
  default     = 0.05
  validation {
    condition     = var.function_error_ratio > 0 && var.function_error_ratio < 1
    error_message = "function_error_ratio must be between 0 and 1."
  }
}
