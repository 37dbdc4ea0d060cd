# Every telemetry name the alerts and the workbook (../workbook.json) depend on, in one place. They are the
# names the app emits (OpenTelemetry metrics become customMetrics in Application Insights, attributes become
# customDimensions, spans become dependencies); test/infra checks this file against the code and the workbook.
locals {
  metric = {
    rows_copied      = "icebridge.copy.rows"
    bytes_copied     = "icebridge.copy.bytes"
    rows_per_second  = "icebridge.copy.rows_per_second"
    errors           = "icebridge.errors"
    retries          = "icebridge.activity.retries"
    differences      = "icebridge.verify.differences"
    sync_lag_seconds = "icebridge.sync.lag.seconds"
    sync_changes     = "icebridge.sync.changes"
    rollbacks        = "icebridge.rollbacks"
    job_results      = "icebridge.jobs.results"
  }

  attribute = {
    job      = "icebridge.job"
    status   = "icebridge.status"
    run_id   = "icebridge.run_id"
    code     = "icebridge.error.code"
    rollback = "icebridge.rollback"
  }

  # The rollback kind of the emergency rollback of every flag to PostgreSQL (a table's rollback is "table").
  emergency_rollback = "postgres"

  # The span of a table's commit, the last activity of its copy (activity spans are named "activity <name>").
  commit_span = "activity commitTable"

  # Job names and the status that means "something to look at" (shared/ops/job-results.ts).
  job = {
    drift       = "drift"
    consistency = "consistency"
  }
  job_findings = ["findings", "failed"]
}
