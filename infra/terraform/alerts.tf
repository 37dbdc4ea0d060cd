# Scheduled-query alert rules over the app's telemetry in Application Insights. Each query returns rows only
# when its condition holds, so every rule fires on "more than zero rows". Query validation is skipped: the
# metrics do not exist until the app first emits them.

locals {
  alerts = {
    stalled-migration = {
      title       = "Migration stalled"
      description = "Copy partitions reported rows, then none for ${var.stalled_minutes} minutes, and no table commit followed."
      severity    = 1
      window      = "PT2H"
      frequency   = "PT5M"
      query       = <<-KQL
        let lastRows = toscalar(customMetrics | where name == "${local.metric.rows_copied}" and valueSum > 0 | summarize max(timestamp));
        let lastCommit = toscalar(dependencies | where name == "${local.commit_span}" | summarize max(timestamp));
        print lastRows = lastRows, lastCommit = lastCommit
        | where isnotnull(lastRows) and lastRows < ago(${var.stalled_minutes}m) and (isnull(lastCommit) or lastCommit < lastRows)
      KQL
    }
    error-rate = {
      title       = "Error rate"
      description = "More than ${var.error_threshold} errors in 15 minutes."
      severity    = 2
      window      = "PT15M"
      frequency   = "PT5M"
      query       = <<-KQL
        customMetrics
        | where name == "${local.metric.errors}"
        | summarize errors = sum(valueSum) by code = tostring(customDimensions["${local.attribute.code}"])
        | where errors > ${var.error_threshold}
      KQL
    }
    throughput-below-baseline = {
      title       = "Copy throughput below baseline"
      description = "Copies run at less than half of ${var.throughput_baseline_rows_per_second} rows per second."
      severity    = 3
      window      = "PT30M"
      frequency   = "PT15M"
      query       = <<-KQL
        customMetrics
        | where name == "${local.metric.rows_per_second}"
        | summarize samples = sum(valueCount), total = sum(valueSum)
        | where samples > 0 and total / samples < ${var.throughput_baseline_rows_per_second / 2}
      KQL
    }
    sync-lag = {
      title       = "Change-capture lag"
      description = "A sync is more than ${var.sync_lag_seconds_threshold} seconds behind its source."
      severity    = 2
      window      = "PT15M"
      frequency   = "PT5M"
      query       = <<-KQL
        customMetrics
        | where name == "${local.metric.sync_lag_seconds}"
        | summarize lag = max(valueMax) by run = tostring(customDimensions["${local.attribute.run_id}"])
        | where lag > ${var.sync_lag_seconds_threshold}
      KQL
    }
    drift-found = {
      title       = "Schema drift found"
      description = "The drift job found the source, the tables and the schema registry apart, or failed."
      severity    = 2
      window      = "PT1H"
      frequency   = "PT15M"
      query       = <<-KQL
        customMetrics
        | where name == "${local.metric.job_results}"
        | where tostring(customDimensions["${local.attribute.job}"]) == "${local.job.drift}"
        | where tostring(customDimensions["${local.attribute.status}"]) in (${join(", ", formatlist("\"%s\"", local.job_findings))})
        | summarize runs = sum(valueSum)
        | where runs > 0
      KQL
    }
    consistency-difference = {
      title       = "Consistency check found differences"
      description = "The nightly consistency job found the copy different from the source, or failed."
      severity    = 1
      window      = "PT1H"
      frequency   = "PT15M"
      query       = <<-KQL
        customMetrics
        | where name == "${local.metric.job_results}"
        | where tostring(customDimensions["${local.attribute.job}"]) == "${local.job.consistency}"
        | where tostring(customDimensions["${local.attribute.status}"]) in (${join(", ", formatlist("\"%s\"", local.job_findings))})
        | summarize runs = sum(valueSum)
        | where runs > 0
      KQL
    }
    emergency-rollback = {
      title       = "Emergency rollback to PostgreSQL"
      description = "Every flag was moved back to PostgreSQL in one emergency rollback."
      severity    = 0
      window      = "PT5M"
      frequency   = "PT5M"
      query       = <<-KQL
        customMetrics
        | where name == "${local.metric.rollbacks}"
        | where tostring(customDimensions["${local.attribute.rollback}"]) == "${local.emergency_rollback}"
        | summarize rollbacks = sum(valueSum)
        | where rollbacks > 0
      KQL
    }
  }
}

resource "azurerm_monitor_scheduled_query_rules_alert_v2" "alert" {
  for_each             = local.alerts
  name                 = "alert-${local.name}-${each.key}"
  resource_group_name  = azurerm_resource_group.main.name
  location             = azurerm_resource_group.main.location
  display_name         = each.value.title
  description          = each.value.description
  severity             = each.value.severity
  window_duration      = each.value.window
  evaluation_frequency = each.value.frequency
  scopes               = [azurerm_application_insights.main.id]

  auto_mitigation_enabled = true
  skip_query_validation   = true

  criteria {
    query                   = each.value.query
    time_aggregation_method = "Count"
    threshold               = 0
    operator                = "GreaterThan"

    failing_periods {
      minimum_failing_periods_to_trigger_alert = 1
      number_of_evaluation_periods             = 1
    }
  }

  action {
    action_groups = [azurerm_monitor_action_group.operators.id]
  }

  tags = var.tags
}
