# The azurerm provider 4.x: Flex Consumption function apps (azurerm_function_app_flex_consumption) with the
# Node 22 runtime, and Key Vault's rbac_authorization_enabled, need a recent 4.x release.
terraform {
  required_version = ">= 1.9"

  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = ">= 4.40, < 5.0"
    }
  }
}

provider "azurerm" {
  features {
    key_vault {
      # A vault destroyed with the environment keeps its secrets recoverable for the retention period.
      purge_soft_delete_on_destroy = false
    }
  }
  # Storage data-plane calls (the filesystem, the deployment container) use Entra ID, not account keys.
  storage_use_azuread = true
}

data "azurerm_client_config" "current" {}
