# The cutover flags in Microsoft's feature-flag format (shared/flags/feature-flag.ts): key
# ".appconfig.featureflag/<name>", the feature-flag content type, a JSON value. Access keys are off: the app and
# operators use Entra ID (App Configuration Data Owner).

resource "azurerm_app_configuration" "flags" {
  name                = "appcs-${local.name}"
  resource_group_name = azurerm_resource_group.main.name
  location            = azurerm_resource_group.main.location
  sku                 = "standard"
  local_auth_enabled  = false
  tags                = var.tags
}

locals {
  feature_flag_prefix       = ".appconfig.featureflag/"
  feature_flag_content_type = "application/vnd.microsoft.appconfig.ff+json;charset=utf-8"
}

resource "azurerm_app_configuration_key" "flag" {
  for_each               = var.feature_flags
  configuration_store_id = azurerm_app_configuration.flags.id
  key                    = "${local.feature_flag_prefix}${each.key}"
  content_type           = local.feature_flag_content_type
  # Every flag starts off: reads and writes stay on PostgreSQL until an operator moves them.
  value = jsonencode({
    id          = each.key
    description = each.value.description
    enabled     = false
    conditions = {
      client_filters = each.value.percentage == null ? [] : [{ name = "Microsoft.Percentage", parameters = { Value = each.value.percentage } }]
    }
  })

  lifecycle {
    # Operators change flags with icebridge flags (audited); a later apply must never turn them back.
    ignore_changes = [value]
  }

  depends_on = [azurerm_role_assignment.deployer_flags]
}

# The key the app watches to know flags changed (ICEBRIDGE_FLAGS_SENTINEL_KEY).
resource "azurerm_app_configuration_key" "sentinel" {
  configuration_store_id = azurerm_app_configuration.flags.id
  key                    = "icebridge:sentinel"
  value                  = "0"

  lifecycle {
    ignore_changes = [value]
  }

  depends_on = [azurerm_role_assignment.deployer_flags]
}
