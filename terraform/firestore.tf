# Deployment and job state (PRODUCT.md "State"). A project has one "(default)" database; if
# yours exists already, import it: terraform import google_firestore_database.default "(default)"
resource "google_firestore_database" "default" {
  name                    = "(default)"
  location_id             = local.firestore_location
  type                    = "FIRESTORE_NATIVE"
  concurrency_mode        = "PESSIMISTIC"
  delete_protection_state = "DELETE_PROTECTION_ENABLED"
  # terraform destroy leaves the data alone
  deletion_policy = "ABANDON"

  depends_on = [google_project_service.api]
}

# Indexes the deployed code's queries need beyond what Firestore maintains by itself.
# Firestore keeps ascending, descending and array-contains single-field indexes with COLLECTION
# scope for every field, and none with COLLECTION_GROUP scope; a collection-group query on a
# field without one fails with FAILED_PRECONDITION ("The query requires an index"). The
# emulator enforces no index: test/unit/infra/firestore-indexes.test.ts and
# test/integration/infra/firestore-queries-indexed.test.ts hold every query the code sends
# against these declarations.
#
# index_config REPLACES the field's inherited indexes, so each override re-lists the
# collection-scope ones too (firestore-model-endpoints.ts filters a model's own versions on
# state at COLLECTION scope). Field index changes on one database run one at a time, hence
# the depends_on chain.

# shared/deployment/adapters/firestore-version-store.ts listActive():
#   collectionGroup('versions').where('state', 'in', [...IN_PROGRESS])
resource "google_firestore_field" "versions_state" {
  database   = google_firestore_database.default.name
  collection = "versions"
  field      = "state"
  index_config {
    indexes {
      order       = "ASCENDING"
      query_scope = "COLLECTION"
    }
    indexes {
      order       = "DESCENDING"
      query_scope = "COLLECTION"
    }
    indexes {
      array_config = "CONTAINS"
      query_scope  = "COLLECTION"
    }
    indexes {
      order       = "ASCENDING"
      query_scope = "COLLECTION_GROUP"
    }
  }
}

# listActive(): collectionGroup('versions').where('operation.kind', '==', 'undeploy')
resource "google_firestore_field" "versions_operation_kind" {
  database   = google_firestore_database.default.name
  collection = "versions"
  field      = "operation.kind"
  index_config {
    indexes {
      order       = "ASCENDING"
      query_scope = "COLLECTION"
    }
    indexes {
      order       = "DESCENDING"
      query_scope = "COLLECTION"
    }
    indexes {
      array_config = "CONTAINS"
      query_scope  = "COLLECTION"
    }
    indexes {
      order       = "ASCENDING"
      query_scope = "COLLECTION_GROUP"
    }
  }
  depends_on = [google_firestore_field.versions_state]
}

# TTL: image-intake's event claims (jobs/{job}/events) and their done marks
# (jobs/{job}/eventsDone) carry expireAt, 7 days after they were written
# (shared/labeling/adapters/event-done-marks.ts, EVENT_RECORD_TTL_MS); Firestore deletes a
# document within about a day of that time, so a bucket's images do not leave a claim each
# forever. Nothing queries expireAt, so it is not indexed (an empty index_config), as
# Firestore's best practices advise for TTL fields: an indexed timestamp that every write moves
# forward slows writes at high rates (a folder drop writes a claim an image). Two blocks, not a
# for_each: field changes on one database run one at a time (the depends_on chain), and the
# offline index check reads only literal blocks.
resource "google_firestore_field" "events_expire_at" {
  database   = google_firestore_database.default.name
  collection = "events"
  field      = "expireAt"
  ttl_config {}
  index_config {}
  depends_on = [google_firestore_field.versions_operation_kind]
}

resource "google_firestore_field" "events_done_expire_at" {
  database   = google_firestore_database.default.name
  collection = "eventsDone"
  field      = "expireAt"
  ttl_config {}
  index_config {}
  depends_on = [google_firestore_field.events_expire_at]
}

# The rollout's canary analysis (shared/deployment/adapters/firestore-results-reader.ts):
# collectionGroup('results').where('deployedModelId', '==', id).where('createdAt', '>=', since)
resource "google_firestore_index" "results_by_deployed_model" {
  database    = google_firestore_database.default.name
  collection  = "results"
  query_scope = "COLLECTION_GROUP"
  fields {
    field_path = "deployedModelId"
    order      = "ASCENDING"
  }
  fields {
    field_path = "createdAt"
    order      = "ASCENDING"
  }
}

# The console's results gallery (local/console/server.ts, run against a project with ADC): a
# confidence bound orders by confidence (descending, then document id), alone or after equality
# filters on status and/or label; each combination needs its composite index.
resource "google_firestore_index" "results_by_status_confidence" {
  database    = google_firestore_database.default.name
  collection  = "results"
  query_scope = "COLLECTION"
  fields {
    field_path = "status"
    order      = "ASCENDING"
  }
  fields {
    field_path = "confidence"
    order      = "DESCENDING"
  }
}

resource "google_firestore_index" "results_by_label_confidence" {
  database    = google_firestore_database.default.name
  collection  = "results"
  query_scope = "COLLECTION"
  fields {
    field_path = "label"
    order      = "ASCENDING"
  }
  fields {
    field_path = "confidence"
    order      = "DESCENDING"
  }
}

resource "google_firestore_index" "results_by_status_label_confidence" {
  database    = google_firestore_database.default.name
  collection  = "results"
  query_scope = "COLLECTION"
  fields {
    field_path = "status"
    order      = "ASCENDING"
  }
  fields {
    field_path = "label"
    order      = "ASCENDING"
  }
  fields {
    field_path = "confidence"
    order      = "DESCENDING"
  }
}
