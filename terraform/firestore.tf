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
