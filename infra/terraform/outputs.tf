output "resource_group_name" {
  description = "The resource group of the deployment."
  value       = azurerm_resource_group.main.name
}

output "function_app_name" {
  description = "The function app: deploy the package to it (docs/deploying.md)."
  value       = azurerm_function_app_flex_consumption.app.name
}

output "function_app_hostname" {
  description = "Host name of the HTTP API (https://<hostname>/api/...)."
  value       = azurerm_function_app_flex_consumption.app.default_hostname
}

output "function_app_principal_id" {
  description = "Object id of the app's managed identity: the PostgreSQL Entra principal to create for source_auth = entra."
  value       = local.app_principal
}

output "warehouse" {
  description = "The warehouse location (ICEBRIDGE_WAREHOUSE)."
  value       = local.warehouse_url
}

output "app_configuration_endpoint" {
  description = "The flags store (ICEBRIDGE_APPCONFIG_ENDPOINT): icebridge flags from a workstation uses it too."
  value       = azurerm_app_configuration.flags.endpoint
}

output "key_vault_name" {
  description = "The vault that holds the source URL secret."
  value       = azurerm_key_vault.main.name
}

output "source_secret_name" {
  description = "The secret the app reads as ICEBRIDGE_SOURCE_URL."
  value       = var.source_secret_name
}

output "application_insights_name" {
  description = "Application Insights resource of the app's telemetry and the operations workbook."
  value       = azurerm_application_insights.main.name
}
