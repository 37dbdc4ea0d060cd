# Logs, metrics and traces: the app's OpenTelemetry data goes to workspace-based Application Insights.

resource "azurerm_log_analytics_workspace" "main" {
  name                = "log-${local.name}"
  resource_group_name = azurerm_resource_group.main.name
  location            = azurerm_resource_group.main.location
  sku                 = "PerGB2018"
  retention_in_days   = var.log_retention_days
  tags                = var.tags
}

resource "azurerm_application_insights" "main" {
  name                = "appi-${local.name}"
  resource_group_name = azurerm_resource_group.main.name
  location            = azurerm_resource_group.main.location
  workspace_id        = azurerm_log_analytics_workspace.main.id
  application_type    = "Node.JS"
  tags                = var.tags
}

resource "azurerm_monitor_action_group" "operators" {
  name                = "ag-${local.name}"
  resource_group_name = azurerm_resource_group.main.name
  short_name          = "icebridge"
  tags                = var.tags

  dynamic "email_receiver" {
    for_each = var.alert_email == null ? [] : [var.alert_email]
    content {
      name                    = "operators"
      email_address           = email_receiver.value
      use_common_alert_schema = true
    }
  }

  dynamic "webhook_receiver" {
    for_each = var.alert_webhook_url == null ? [] : [var.alert_webhook_url]
    content {
      name                    = "webhook"
      service_uri             = webhook_receiver.value
      use_common_alert_schema = true
    }
  }
}

# The workbook's queries name the metrics of telemetry-names.tf literally (a workbook is plain JSON);
# test/infra checks that every name it uses is one of them.
resource "azurerm_application_insights_workbook" "operations" {
  name                = uuidv5("url", "https://icebridge/workbooks/${local.name}/operations")
  resource_group_name = azurerm_resource_group.main.name
  location            = azurerm_resource_group.main.location
  display_name        = "icebridge operations (${var.environment})"
  source_id           = lower(azurerm_application_insights.main.id)
  category            = "workbook"
  data_json           = file("${path.module}/../workbook.json")
  tags                = var.tags
}
