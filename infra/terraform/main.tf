# One resource group per environment; every name derives from prefix and environment so two environments
# never collide (storage account names are global: 3-24 lowercase letters and digits).
locals {
  name          = "${var.prefix}-${var.environment}"
  compact       = "${var.prefix}${var.environment}"
  warehouse_url = "abfss://${azurerm_storage_data_lake_gen2_filesystem.warehouse.name}@${azurerm_storage_account.lake.name}.dfs.core.windows.net/${var.warehouse_path}"
}

resource "azurerm_resource_group" "main" {
  name     = "rg-${local.name}"
  location = var.location
  tags     = var.tags
}
