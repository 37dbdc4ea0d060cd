variable "prefix" {
  description = "Short name of the deployment, used in every resource name (3-10 lowercase letters and digits)."
  type        = string
  default     = "icebridge"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{2,9}$", var.prefix))
    error_message = "prefix must be 3-10 lowercase letters and digits, starting with a letter (storage account names allow nothing else)."
  }
}

variable "environment" {
  description = "Environment name, appended to resource names (1-6 lowercase letters and digits), e.g. dev, prod."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]{1,6}$", var.environment))
    error_message = "environment must be 1-6 lowercase letters and digits."
  }
}

variable "location" {
  description = "Azure region of every resource; Flex Consumption must be available there."
  type        = string
}

variable "tags" {
  description = "Tags put on every resource."
  type        = map(string)
  default     = {}
}

variable "task_hub" {
  description = "Durable Functions task hub name (ICEBRIDGE_TASK_HUB): 3-45 letters and digits, starting with a letter."
  type        = string
  default     = "icebridge"

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9]{2,44}$", var.task_hub))
    error_message = "task_hub must be 3-45 letters and digits, starting with a letter."
  }
}

variable "warehouse_filesystem" {
  description = "ADLS Gen2 filesystem (container) that holds the Iceberg warehouse."
  type        = string
  default     = "warehouse"
}

variable "warehouse_path" {
  description = "Path of the warehouse root inside the filesystem."
  type        = string
  default     = "iceberg"
}

variable "instance_memory_mb" {
  description = "Memory of one Flex Consumption instance: 2048 or 4096 (also ICEBRIDGE_INSTANCE_MEMORY_MB)."
  type        = number
  default     = 2048

  validation {
    condition     = contains([2048, 4096], var.instance_memory_mb)
    error_message = "instance_memory_mb must be 2048 or 4096."
  }
}

variable "maximum_instance_count" {
  description = "Most instances the app scales out to; each holds up to activity_slots + 2 source connections."
  type        = number
  default     = 10
}

variable "activity_slots" {
  description = "Activities one instance runs at once: keep equal to host.json maxConcurrentActivityFunctions (4)."
  type        = number
  default     = 4
}

variable "source_url" {
  description = "PostgreSQL URL of the source. Stored only in Key Vault; leave null to set the secret yourself (az keyvault secret set)."
  type        = string
  default     = null
  sensitive   = true
}

variable "source_secret_name" {
  description = "Name of the Key Vault secret holding the source URL."
  type        = string
  default     = "icebridge-source-url"
}

variable "source_auth" {
  description = "How the app logs in to PostgreSQL (ICEBRIDGE_SOURCE_AUTH): password (in the URL) or entra (the app's managed identity)."
  type        = string
  default     = "password"

  validation {
    condition     = contains(["password", "entra"], var.source_auth)
    error_message = "source_auth must be password or entra."
  }
}

variable "operator_role" {
  description = "App role a signed-in caller needs for changing HTTP calls (ICEBRIDGE_OPERATOR_ROLE)."
  type        = string
  default     = "icebridge.operator"
}

variable "flags_refresh_seconds" {
  description = "How often the app re-reads the cutover flags (ICEBRIDGE_FLAGS_REFRESH_SECONDS)."
  type        = number
  default     = 30
}

variable "feature_flags" {
  description = "The cutover flags created in App Configuration, all off (reads and writes on PostgreSQL). Terraform creates them once and never reverts a change made with icebridge flags."
  type = map(object({
    description = string
    percentage  = optional(number)
  }))
  default = {
    "use-iceberg-storage"     = { description = "Master switch for reads: off sends every read to PostgreSQL." }
    "iceberg-read-percentage" = { description = "Share of routing keys whose reads go to Iceberg when the switch is on.", percentage = 0 }
    "dual-write-mode"         = { description = "Writes go to both sides." }
    "validate-dual-writes"    = { description = "Reads go to both sides and are compared." }
    "use-iceberg-as-primary"  = { description = "Iceberg is the primary: writes go there first." }
  }
}

variable "alert_email" {
  description = "Address the action group mails when an alert fires; null for no mail receiver."
  type        = string
  default     = null
}

variable "alert_webhook_url" {
  description = "HTTPS endpoint the action group posts alerts to (common alert schema); null for none."
  type        = string
  default     = null
  sensitive   = true
}

variable "stalled_minutes" {
  description = "A migration copying no rows for this long, while its partitions are running, is stalled."
  type        = number
  default     = 30
}

variable "error_threshold" {
  description = "Errors in 15 minutes above which the error-rate alert fires."
  type        = number
  default     = 10
}

variable "throughput_baseline_rows_per_second" {
  description = "Expected copy throughput; the alert fires below half of it while a copy runs."
  type        = number
  default     = 50000
}

variable "sync_lag_seconds_threshold" {
  description = "Change-capture lag above which the sync-lag alert fires."
  type        = number
  default     = 900
}

variable "log_retention_days" {
  description = "Retention of the Log Analytics workspace."
  type        = number
  default     = 30
}
