# The source URL lives in Key Vault only; the app setting is a Key Vault reference that the platform resolves
# with the app's identity (Key Vault Secrets User). With source_auth = "entra" the URL carries no password.

resource "azurerm_key_vault" "main" {
  name                       = "kv-${local.name}"
  resource_group_name        = azurerm_resource_group.main.name
  location                   = azurerm_resource_group.main.location
  tenant_id                  = data.azurerm_client_config.current.tenant_id
  sku_name                   = "standard"
  rbac_authorization_enabled = true
  soft_delete_retention_days = 7
  purge_protection_enabled   = false
  tags                       = var.tags
}

# Made only when source_url is given: its value then sits in the Terraform state, so keep the state private or
# leave source_url null and set the secret with az keyvault secret set.
resource "azurerm_key_vault_secret" "source_url" {
  count        = var.source_url == null ? 0 : 1
  name         = var.source_secret_name
  value        = var.source_url
  key_vault_id = azurerm_key_vault.main.id
  content_type = "PostgreSQL URL"
  depends_on   = [azurerm_role_assignment.deployer_secrets]
}
