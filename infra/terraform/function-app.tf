# The function app on Flex Consumption (Linux, Node 22) with a system-assigned identity, which reaches every
# service below without a key: the host storage (AzureWebJobsStorage__accountName), the warehouse, App
# Configuration, Key Vault and, with source_auth = "entra", PostgreSQL.

resource "azurerm_service_plan" "functions" {
  name                = "asp-${local.name}"
  resource_group_name = azurerm_resource_group.main.name
  location            = azurerm_resource_group.main.location
  os_type             = "Linux"
  sku_name            = "FC1"
  tags                = var.tags
}

locals {
  # Every setting the app reads, as the app reads it (docs/configuration.md). test/infra derives the settings the
  # code reads and checks that each one is here or in optional_app_settings below.
  app_settings = {
    # The Functions host's own storage, reached with the app's identity instead of a connection string.
    "AzureWebJobsStorage__accountName" = azurerm_storage_account.host.name
    "ICEBRIDGE_TASK_HUB"               = var.task_hub
    "ICEBRIDGE_WAREHOUSE"              = local.warehouse_url
    # An account without ICEBRIDGE_STORAGE_KEY is reached with the app's identity.
    "ICEBRIDGE_STORAGE_ACCOUNT"       = azurerm_storage_account.lake.name
    "ICEBRIDGE_SOURCE_URL"            = "@Microsoft.KeyVault(VaultName=${azurerm_key_vault.main.name};SecretName=${var.source_secret_name})"
    "ICEBRIDGE_SOURCE_AUTH"           = var.source_auth
    "ICEBRIDGE_APPCONFIG_ENDPOINT"    = azurerm_app_configuration.flags.endpoint
    "ICEBRIDGE_FLAGS_SENTINEL_KEY"    = azurerm_app_configuration_key.sentinel.key
    "ICEBRIDGE_FLAGS_REFRESH_SECONDS" = tostring(var.flags_refresh_seconds)
    "ICEBRIDGE_ACTIVITY_SLOTS"        = tostring(var.activity_slots)
    "ICEBRIDGE_INSTANCE_MEMORY_MB"    = tostring(var.instance_memory_mb)
    "ICEBRIDGE_OPERATOR_ROLE"         = var.operator_role
    # Node options of the worker process: change capture's batches allocate fast, and 32 MB semi-spaces let
    # their garbage die young (what `icebridge sync` runs itself with; docs/benchmarks.md#change-capture).
    "languageWorkers__node__arguments" = "--max-semi-space-size=32"
  }

  # Settings the code reads that this template deliberately leaves unset, and why: each has a default that is
  # right on Azure, is set by the platform, or exists for another way of running icebridge. The one list of them.
  optional_app_settings = {
    "ICEBRIDGE_STORAGE_CONNECTION_STRING"      = "keys are not used: the warehouse is reached with the app's identity"
    "ICEBRIDGE_STORAGE_KEY"                    = "keys are not used: the warehouse is reached with the app's identity"
    "ICEBRIDGE_STORAGE_BLOB_ENDPOINT"          = "default: https://<account>.blob.core.windows.net"
    "ICEBRIDGE_APPCONFIG_CONNECTION_STRING"    = "keys are not used: ICEBRIDGE_APPCONFIG_ENDPOINT with the app's identity"
    "ICEBRIDGE_FLAGS_FILE"                     = "the local flags file, used only without App Configuration"
    "ICEBRIDGE_FLAGS_AUDIT"                    = "default: <warehouse>/.icebridge/audit/flags"
    "ICEBRIDGE_COPY_WORKERS"                   = "default: from the instance's cores and ICEBRIDGE_INSTANCE_MEMORY_MB"
    "ICEBRIDGE_SOURCE_CONNECTIONS"             = "default: ICEBRIDGE_ACTIVITY_SLOTS + 2"
    "ICEBRIDGE_LOCAL_TOKEN"                    = "the bearer token of icebridge serve; must stay unset on Azure, where App Service authentication decides"
    "WEBSITE_INSTANCE_ID"                      = "set by the platform on every instance"
    "FUNCTIONS_WORKER_RUNTIME"                 = "set by the platform from runtime_name on Flex Consumption"
    "AzureWebJobsScriptRoot"                   = "set by the platform"
    "HOME"                                     = "set by the platform"
    "PGHOST"                                   = "libpq fallback of the CLI; the app uses ICEBRIDGE_SOURCE_URL"
    "PGPORT"                                   = "libpq fallback of the CLI; the app uses ICEBRIDGE_SOURCE_URL"
    "PGUSER"                                   = "libpq fallback of the CLI; the app uses ICEBRIDGE_SOURCE_URL"
    "PGPASSWORD"                               = "libpq fallback of the CLI; the app uses ICEBRIDGE_SOURCE_URL"
    "PGDATABASE"                               = "libpq fallback of the CLI; the app uses ICEBRIDGE_SOURCE_URL"
    "PGSSLMODE"                                = "libpq fallback of the CLI; the app uses ICEBRIDGE_SOURCE_URL"
    "PGPASSFILE"                               = "libpq fallback of the CLI; the app uses ICEBRIDGE_SOURCE_URL"
    "ICEBRIDGE_ALERT_WEBHOOK_URL"              = "a secret: set it as a Key Vault reference to post alerts to Slack or Teams; unset, the alert rules of alerts.tf alone alert"
    "ICEBRIDGE_ALERT_STALL_MINUTES"            = "default 30"
    "ICEBRIDGE_ALERT_ERROR_RATE"               = "default 0.1"
    "ICEBRIDGE_ALERT_THROUGHPUT_FRACTION"      = "default 0.5"
    "ICEBRIDGE_ALERT_BASELINE_ROWS_PER_SECOND" = "unset: the throughput condition is off"
    "ICEBRIDGE_ALERT_SYNC_LAG_SECONDS"         = "default 300"
    "ICEBRIDGE_KAFKA_BROKERS"                  = "unset: no Kafka fan-out, and no outbox relay timer"
    "ICEBRIDGE_KAFKA_CLIENT_ID"                = "default icebridge"
    "ICEBRIDGE_KAFKA_SSL"                      = "default: on when SASL is set"
    "ICEBRIDGE_KAFKA_SASL_MECHANISM"           = "plain, scram-sha-256 or scram-sha-512; unset: no SASL"
    "ICEBRIDGE_KAFKA_SASL_USERNAME"            = "with ICEBRIDGE_KAFKA_SASL_MECHANISM"
    "ICEBRIDGE_KAFKA_SASL_PASSWORD"            = "a secret: set it as a Key Vault reference, with ICEBRIDGE_KAFKA_SASL_MECHANISM"
    "ICEBRIDGE_KAFKA_TOPIC_PARTITIONS"         = "default 6"
    "ICEBRIDGE_KAFKA_REPLICATION_FACTOR"       = "default: the cluster's default"
    "ICEBRIDGE_KAFKA_IDEMPOTENT"               = "default false: one request in flight keeps per-key order"
    "ICEBRIDGE_OUTBOX_BATCH"                   = "default 500"
    "ICEBRIDGE_OUTBOX_MAX_ATTEMPTS"            = "default 10"
    "ICEBRIDGE_OUTBOX_LEASE_SECONDS"           = "default 300"
    "ICEBRIDGE_OUTBOX_BACKOFF_BASE_MS"         = "default 1000"
    "ICEBRIDGE_OUTBOX_BACKOFF_MAX_MS"          = "default 600000"
    "ICEBRIDGE_OUTBOX_RELAY_SCHEDULE"          = "default 0 * * * * * (every minute)"
    "ICEBRIDGE_OUTBOX_RELAY_SECONDS"           = "default 50"
    "ICEBRIDGE_CONSISTENCY_SCHEDULE"           = "default 0 0 2 * * *"
    "ICEBRIDGE_DRIFT_SCHEDULE"                 = "default 0 30 1 * * *"
    "ICEBRIDGE_MAINTENANCE_SCHEDULE"           = "default 0 30 3 * * *"
    "ICEBRIDGE_WATCH_SCHEDULE"                 = "default 0 */5 * * * *"
    "ICEBRIDGE_JOB_NAMESPACES"                 = "default public"
    "ICEBRIDGE_CONSISTENCY_MAX_LAG_BYTES"      = "default 1 GiB"
    "ICEBRIDGE_CONSISTENCY_MAX_LAG_SECONDS"    = "default 3600"
    "ICEBRIDGE_MAINTENANCE_RETENTION_DAYS"     = "default 7"
    "ICEBRIDGE_MAINTENANCE_RETAIN_LAST"        = "default 5"
    "ICEBRIDGE_MAINTENANCE_ORPHAN_DAYS"        = "default 3"
    "ICEBRIDGE_MAINTENANCE_HISTORY_DAYS"       = "default 30"
    "ICEBRIDGE_STATE_DATABASE_URL"             = "a secret: unset, the state schema lives in the source database; else a Key Vault reference"
    "ICEBRIDGE_STATE_SCHEMA"                   = "default icebridge"
    "ICEBRIDGE_STATE_MIGRATE_ON_START"         = "default false: run icebridge db migrate when deploying"
    "ICEBRIDGE_TELEMETRY"                      = "default azure-monitor, as APPLICATIONINSIGHTS_CONNECTION_STRING is set"
    "ICEBRIDGE_OTLP_ENDPOINT"                  = "only with ICEBRIDGE_TELEMETRY=otlp"
    "ICEBRIDGE_FANOUT_SYSTEMS"                 = "default: every configured one of event-store, clickhouse, weaviate"
    "ICEBRIDGE_SYNC_FANOUT"                    = "default false: true has the orchestrated sync feed the downstream systems too"
    "ICEBRIDGE_EVENTS_SNAPSHOT_INTERVAL"       = "default 100"
    "ICEBRIDGE_EVENTS_TOPIC_PREFIX"            = "default icebridge."
    "ICEBRIDGE_WEAVIATE_URL"                   = "a secret: unset, nothing is sent to Weaviate; else a Key Vault reference"
    "ICEBRIDGE_WEAVIATE_API_KEY"               = "a secret: a Key Vault reference; unset for a Weaviate without authentication"
    "ICEBRIDGE_WEAVIATE_CLASS_CONFIG"          = "default: every table a class named after it, with every column"
    "ICEBRIDGE_WEAVIATE_EMBEDDER"              = "default local (feature hashing); weaviate or http"
    "ICEBRIDGE_WEAVIATE_EMBEDDING_URL"         = "a secret, only with ICEBRIDGE_WEAVIATE_EMBEDDER=http: a Key Vault reference"
    "ICEBRIDGE_WEAVIATE_EMBEDDING_KEY"         = "a secret, only with ICEBRIDGE_WEAVIATE_EMBEDDER=http: a Key Vault reference"
    "ICEBRIDGE_WEAVIATE_EMBEDDING_MODEL"       = "default text-embedding-3-small, only with ICEBRIDGE_WEAVIATE_EMBEDDER=http"
    "ICEBRIDGE_CLICKHOUSE_URL"                 = "unset: no ClickHouse fan-out; else the server's http(s):// endpoint without credentials (a Key Vault reference: it names an internal host)"
    "ICEBRIDGE_CLICKHOUSE_USER"                = "default default"
    "ICEBRIDGE_CLICKHOUSE_PASSWORD"            = "a secret: a Key Vault reference, with ICEBRIDGE_CLICKHOUSE_URL"
    "ICEBRIDGE_CLICKHOUSE_DATABASE"            = "default icebridge"
  }
}

resource "azurerm_function_app_flex_consumption" "app" {
  name                = "func-${local.name}"
  resource_group_name = azurerm_resource_group.main.name
  location            = azurerm_resource_group.main.location
  service_plan_id     = azurerm_service_plan.functions.id

  runtime_name           = "node"
  runtime_version        = "22"
  instance_memory_in_mb  = var.instance_memory_mb
  maximum_instance_count = var.maximum_instance_count

  # The deployment package (npm run package) goes to this container, read with the app's identity.
  storage_container_type      = "blobContainer"
  storage_container_endpoint  = "${azurerm_storage_account.host.primary_blob_endpoint}${azurerm_storage_container.deployments.name}"
  storage_authentication_type = "SystemAssignedIdentity"

  https_only = true

  identity {
    type = "SystemAssigned"
  }

  site_config {
    # The provider writes this into APPLICATIONINSIGHTS_CONNECTION_STRING.
    application_insights_connection_string = azurerm_application_insights.main.connection_string
  }

  app_settings = local.app_settings
  tags         = var.tags
}
