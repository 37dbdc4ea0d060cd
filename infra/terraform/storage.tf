# Two accounts: the host's (task hub queues, tables and blobs, and the Flex Consumption deployment package) and
# the Data Lake that holds the warehouse, so the warehouse can have its own access, network and lifecycle rules.
# Shared keys are off on both: the app, the host and Terraform use Entra ID.

resource "azurerm_storage_account" "host" {
  name                            = "${local.compact}host"
  resource_group_name             = azurerm_resource_group.main.name
  location                        = azurerm_resource_group.main.location
  account_tier                    = "Standard"
  account_replication_type        = "LRS"
  min_tls_version                 = "TLS1_2"
  shared_access_key_enabled       = false
  allow_nested_items_to_be_public = false
  tags                            = var.tags
}

resource "azurerm_storage_container" "deployments" {
  name                  = "deployments"
  storage_account_id    = azurerm_storage_account.host.id
  container_access_type = "private"
  depends_on            = [azurerm_role_assignment.deployer_host_blob]
}

resource "azurerm_storage_account" "lake" {
  name                            = "${local.compact}lake"
  resource_group_name             = azurerm_resource_group.main.name
  location                        = azurerm_resource_group.main.location
  account_tier                    = "Standard"
  account_replication_type        = "ZRS"
  account_kind                    = "StorageV2"
  is_hns_enabled                  = true
  min_tls_version                 = "TLS1_2"
  shared_access_key_enabled       = false
  allow_nested_items_to_be_public = false
  tags                            = var.tags
}

resource "azurerm_storage_data_lake_gen2_filesystem" "warehouse" {
  name               = var.warehouse_filesystem
  storage_account_id = azurerm_storage_account.lake.id
  depends_on         = [azurerm_role_assignment.deployer_lake_blob]
}
