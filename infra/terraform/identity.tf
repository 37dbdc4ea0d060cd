# What the app's system-assigned identity may do, and what the identity running Terraform needs for the data
# it writes (containers, the filesystem, the flags, the source secret) while shared keys are off.

locals {
  app_principal = azurerm_function_app_flex_consumption.app.identity[0].principal_id
}

# Blobs, queues and tables of the host account: the Durable Functions task hub (Azure Storage provider) uses
# all three, and the deployment package is a blob.
resource "azurerm_role_assignment" "app_host_blob" {
  scope                = azurerm_storage_account.host.id
  role_definition_name = "Storage Blob Data Contributor"
  principal_id         = local.app_principal
}

resource "azurerm_role_assignment" "app_host_queue" {
  scope                = azurerm_storage_account.host.id
  role_definition_name = "Storage Queue Data Contributor"
  principal_id         = local.app_principal
}

resource "azurerm_role_assignment" "app_host_table" {
  scope                = azurerm_storage_account.host.id
  role_definition_name = "Storage Table Data Contributor"
  principal_id         = local.app_principal
}

resource "azurerm_role_assignment" "app_lake_blob" {
  scope                = azurerm_storage_account.lake.id
  role_definition_name = "Storage Blob Data Contributor"
  principal_id         = local.app_principal
}

# Owner, not Reader: the app writes flags (icebridge flags set, the emergency rollback) with etag checks.
resource "azurerm_role_assignment" "app_flags" {
  scope                = azurerm_app_configuration.flags.id
  role_definition_name = "App Configuration Data Owner"
  principal_id         = local.app_principal
}

resource "azurerm_role_assignment" "app_secrets" {
  scope                = azurerm_key_vault.main.id
  role_definition_name = "Key Vault Secrets User"
  principal_id         = local.app_principal
}

resource "azurerm_role_assignment" "deployer_host_blob" {
  scope                = azurerm_storage_account.host.id
  role_definition_name = "Storage Blob Data Contributor"
  principal_id         = data.azurerm_client_config.current.object_id
}

resource "azurerm_role_assignment" "deployer_lake_blob" {
  scope                = azurerm_storage_account.lake.id
  role_definition_name = "Storage Blob Data Contributor"
  principal_id         = data.azurerm_client_config.current.object_id
}

resource "azurerm_role_assignment" "deployer_flags" {
  scope                = azurerm_app_configuration.flags.id
  role_definition_name = "App Configuration Data Owner"
  principal_id         = data.azurerm_client_config.current.object_id
}

resource "azurerm_role_assignment" "deployer_secrets" {
  scope                = azurerm_key_vault.main.id
  role_definition_name = "Key Vault Secrets Officer"
  principal_id         = data.azurerm_client_config.current.object_id
}
