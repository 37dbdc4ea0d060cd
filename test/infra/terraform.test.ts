/**
 * Offline checks of infra/terraform/ and infra/workbook.json: no Azure and no provider download here, so the
 * template is parsed by the subset parser of support/hcl.ts (always) and formatted by `terraform fmt -check`
 * (when the binary is installed). Each check runs first on a small broken input, where it must report the
 * breakage, and then on the real template, where it must report nothing.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FEATURE_FLAG_CONTENT_TYPE, FEATURE_FLAG_PREFIX, ICEBRIDGE_FLAG_NAMES, parseFeatureFlag } from '../../shared/flags/feature-flag';
import { parseHcl } from './support/hcl';
import { deployedSources, settingsReadBy } from './support/settings-in-code';
import {
  type TerraformModule,
  attribute,
  dependencyCycles,
  evaluate,
  loadModule,
  moduleFromSources,
  objectKeys,
  referenceProblems,
  unusedVariables,
  walkExpr,
} from './support/terraform-model';

const ROOT = path.resolve(__dirname, '../..');
const TERRAFORM_DIR = path.join(ROOT, 'infra/terraform');
const WORKBOOK = path.join(ROOT, 'infra/workbook.json');
const module = loadModule(TERRAFORM_DIR);

/** The keys of an object local. */
function localKeys(name: string): string[] {
  return objectKeys(module.locals.get(name) ?? { kind: 'literal', value: null }, { module });
}

/** A local's value, evaluated. */
function local<T>(name: string): T {
  const expr = module.locals.get(name);
  if (expr === undefined) throw new Error(`local.${name} is not declared`);
  return evaluate(expr, { module }) as T;
}

/** Arguments of the app settings that the provider writes under a setting name of its own. */
const PROVIDER_WRITTEN_SETTINGS: Record<string, string> = {
  application_insights_connection_string: 'APPLICATIONINSIGHTS_CONNECTION_STRING',
};

/** The names of the app settings the template sets: its app_settings map, and what the provider writes. */
function templateSettings(): Set<string> {
  const settings = new Set(localKeys('app_settings'));
  const app = module.resources.get('azurerm_function_app_flex_consumption.app');
  for (const block of app?.body.blocks ?? []) {
    for (const { name } of block.body.attributes) {
      const setting = PROVIDER_WRITTEN_SETTINGS[name];
      if (setting !== undefined) settings.add(setting);
    }
  }
  return settings;
}

/** Problems between the settings the code reads and those the template sets or lists as optional. */
function settingProblems(read: ReadonlyMap<string, string>, set: ReadonlySet<string>, optional: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  for (const [name, file] of read) {
    if (!set.has(name) && !optional.has(name)) problems.push(`${name} (read in ${file}) is neither set by the template nor listed in optional_app_settings`);
  }
  for (const name of set) if (optional.has(name)) problems.push(`${name} is both set and listed as optional`);
  for (const name of optional) if (!read.has(name)) problems.push(`${name} is listed as optional but no code reads it`);
  for (const name of set) if (name.startsWith('ICEBRIDGE_') && !read.has(name)) problems.push(`${name} is set but no code reads it`);
  return problems;
}

describe('the HCL subset parser', () => {
  it('reads blocks, labels, strings with interpolation, heredocs, objects, tuples, calls and conditionals', () => {
    const body = parseHcl(
      [
        '# comment',
        'resource "azurerm_thing" "one" {',
        '  name  = "x-${var.a}-$${literal}" // trailing',
        '  list  = [1, -2, true, null]',
        '  map   = { a = 1, "b" : local.c.d[0] }',
        '  value = var.flag == null ? [] : [{ n = lower("X") }]',
        '  query = <<-EOT',
        '    first ${local.m.rows}',
        '      second',
        '  EOT',
        '  nested {',
        '    depends_on = [azurerm_thing.two]',
        '  }',
        '}',
      ].join('\n'),
    );
    const block = body.blocks[0]!;
    expect([block.type, ...block.labels]).toEqual(['resource', 'azurerm_thing', 'one']);
    expect(block.body.attributes.map((a) => a.name)).toEqual(['name', 'list', 'map', 'value', 'query']);
    expect(block.body.blocks[0]!.type).toBe('nested');
    const name = attribute(block.body, 'name')!;
    expect(name.kind === 'template' && name.parts[2]).toBe('-${literal}');
    const query = attribute(block.body, 'query')!;
    expect(query.kind === 'template' && query.parts[0]).toBe('first ');
    expect(query.kind === 'template' && query.parts[2]).toBe('\n  second\n');
    const references: string[] = [];
    for (const a of block.body.attributes) walkExpr(a.value, (t) => references.push(t.root));
    expect(references).toEqual(['var', 'local', 'var', 'local']);
  });

  it('refuses what it does not understand, naming file and line, so no part of the template goes unchecked', () => {
    expect(() => parseHcl('locals {\n  x = [for v in var.list : v]\n}', 'a.tf')).toThrow('a.tf:2: for expressions are not in the supported subset');
    expect(() => parseHcl('locals {\n  x = "%{ if true }y%{ endif }"\n}', 'b.tf')).toThrow('b.tf:2: template directives');
    expect(() => parseHcl('locals {\n  x = azurerm_thing.one[*].id\n}', 'c.tf')).toThrow('c.tf:2: splat');
  });
});

describe('references', () => {
  it('reports every reference to something undeclared', () => {
    const broken = moduleFromSources({
      'main.tf': [
        'variable "used" {',
        '  type = map(object({ a = optional(number) }))',
        '}',
        'variable "unused" {}',
        'locals {',
        '  names = { rows = "icebridge.copy.rows" }',
        '}',
        'resource "azurerm_thing" "one" {',
        '  a = var.used',
        '  b = var.missing',
        '  c = local.names.rows',
        '  d = local.names.bytes',
        '  e = azurerm_thing.two.id',
        '  f = data.azurerm_client_config.current.tenant_id',
        '  g = each.key',
        '  h = unknown.x',
        '  dynamic "rule" {',
        '    for_each = []',
        '    content {',
        '      x = rule.value',
        '    }',
        '  }',
        '  i = rule.value',
        '  lifecycle {',
        '    ignore_changes = [whatever]',
        '  }',
        '}',
      ].join('\n'),
    });
    expect(referenceProblems(broken)).toEqual([
      'main.tf:10: var.missing: no such variable',
      'main.tf:12: local.names.bytes: local.names has no key bytes',
      'main.tf:13: azurerm_thing.two.id: no such resource',
      'main.tf:14: data.azurerm_client_config.current.tenant_id: no such data source',
      'main.tf:15: each.key: each outside a for_each block',
      'main.tf:16: unknown.x: unknown name unknown',
      'main.tf:23: rule.value: unknown name rule',
    ]);
    expect(unusedVariables(broken)).toEqual(['unused']);
  });

  it('holds on infra/terraform: every reference is declared and every variable used', () => {
    expect(module.resources.size).toBeGreaterThan(20);
    expect(referenceProblems(module)).toEqual([]);
    expect(unusedVariables(module)).toEqual([]);
  });

  it('reports a dependency cycle, which Terraform would refuse at plan', () => {
    const cyclic = moduleFromSources({
      'a.tf': [
        'resource "azurerm_a" "x" {',
        '  b = azurerm_b.y.id',
        '}',
        'resource "azurerm_b" "y" {',
        '  depends_on = [local.z]',
        '}',
        'locals {',
        '  z = azurerm_a.x.name',
        '  w = azurerm_b.y.id',
        '}',
      ].join('\n'),
    });
    expect(dependencyCycles(cyclic)).toEqual([['azurerm_a.x', 'azurerm_b.y', 'local.z', 'azurerm_a.x']]);
    expect(dependencyCycles(module)).toEqual([]);
  });

  it('has an example tfvars that sets only declared variables and every one without a default', () => {
    const example = parseHcl(readFileSync(path.join(TERRAFORM_DIR, 'terraform.tfvars.example'), 'utf8'), 'terraform.tfvars.example');
    const given = example.attributes.map((a) => a.name);
    expect(given.filter((name) => !module.variables.has(name))).toEqual([]);
    const required = [...module.variables].filter(([, block]) => attribute(block.body, 'default') === undefined).map(([name]) => name);
    expect(required.filter((name) => !given.includes(name))).toEqual([]);
    expect(required.length).toBeGreaterThan(0);
  });

  it.skipIf(!existsSync('/usr/local/bin/terraform'))('is formatted as terraform fmt writes it', () => {
    // fmt parses the files too: a syntax error fails here even where the subset parser would pass.
    execFileSync('/usr/local/bin/terraform', ['fmt', '-check', '-diff', '-recursive', TERRAFORM_DIR], {
      stdio: 'pipe',
      env: { ...process.env, TF_CLI_CONFIG_FILE: '/dev/null' },
    });
  });
});

describe('app settings', () => {
  const read = settingsReadBy(deployedSources(ROOT));
  const optional = new Set(localKeys('optional_app_settings'));

  it('finds the settings the code reads from its constants and its env reads', () => {
    const sample = new Map([
      [
        'shared/x.ts',
        "export const NAMES = { a: 'ICEBRIDGE_NEW_THING' } as const;\nconst home = env.HOME;\nconst run = env.connectSource; // an environment object, not variables\n",
      ],
      ['shared/y.ts', "const t = `at ${env['PGAPPNAME']} and ${`nested ${1}`}`;\nconst z = process.env.WEBSITE_SKU;\n"],
    ]);
    expect([...settingsReadBy(sample).keys()]).toEqual(['ICEBRIDGE_NEW_THING', 'HOME', 'PGAPPNAME', 'WEBSITE_SKU']);
    expect(read.get('ICEBRIDGE_WAREHOUSE')).toBe('shared/config/settings.ts');
    expect(read.get('ICEBRIDGE_LOCAL_TOKEN')).toBe('functions/http/operator-auth.ts');
    expect(read.size).toBeGreaterThan(20);
  });

  it('reports a setting the code reads that the template neither sets nor lists, and stale entries', () => {
    const problems = settingProblems(
      new Map([
        ['ICEBRIDGE_A', 'shared/a.ts'],
        ['ICEBRIDGE_B', 'shared/b.ts'],
      ]),
      new Set(['ICEBRIDGE_A', 'ICEBRIDGE_TYPO']),
      new Set(['ICEBRIDGE_A', 'ICEBRIDGE_GONE']),
    );
    expect(problems).toEqual([
      'ICEBRIDGE_B (read in shared/b.ts) is neither set by the template nor listed in optional_app_settings',
      'ICEBRIDGE_A is both set and listed as optional',
      'ICEBRIDGE_GONE is listed as optional but no code reads it',
      'ICEBRIDGE_TYPO is set but no code reads it',
    ]);
  });

  it('holds on infra/terraform: every setting the code reads is set by the template or listed as optional, once', () => {
    expect(settingProblems(read, templateSettings(), optional)).toEqual([]);
  });

  it('reports a setting that may hold a secret and is not a Key Vault reference', () => {
    const broken = moduleFromSources({
      'a.tf': [
        'locals {',
        '  app_settings = {',
        '    "ICEBRIDGE_ALERT_WEBHOOK_URL"  = var.webhook',
        '    "ICEBRIDGE_STORAGE_KEY"        = "plain"',
        '    "ICEBRIDGE_SOURCE_URL"         = "@Microsoft.KeyVault(VaultName=v;SecretName=s)"',
        '    "ICEBRIDGE_FLAGS_SENTINEL_KEY" = "icebridge:sentinel"',
        '  }',
        '}',
      ].join('\n'),
    });
    expect(plainSecretSettings(broken)).toEqual(['ICEBRIDGE_ALERT_WEBHOOK_URL', 'ICEBRIDGE_STORAGE_KEY']);
  });

  it('holds on infra/terraform: no secret in an app setting (identity for storage and flags, Key Vault for the source)', () => {
    expect(plainSecretSettings(module)).toEqual([]);
    expect(localKeys('app_settings')).toEqual(expect.arrayContaining(['AzureWebJobsStorage__accountName', 'ICEBRIDGE_SOURCE_URL']));
  });
});

/** Settings that name a secret (or a URL, which may carry one) whose value is not a Key Vault reference. */
function plainSecretSettings(m: TerraformModule): string[] {
  const settings = m.locals.get('app_settings');
  if (settings?.kind !== 'object') return ['(no local.app_settings)'];
  // The sentinel key is a key's name, not a secret; the warehouse URL is a location.
  const notSecret = new Set(['ICEBRIDGE_FLAGS_SENTINEL_KEY', 'ICEBRIDGE_WAREHOUSE']);
  return settings.items.flatMap(({ key, value }) => {
    const name = String(evaluate(key, { module: m }));
    if (notSecret.has(name) || !/KEY$|SECRET|CONNECTION_STRING|PASSWORD|TOKEN|_URL$/.test(name)) return [];
    const first = value.kind === 'template' ? value.parts[0] : undefined;
    return typeof first === 'string' && first.startsWith('@Microsoft.KeyVault(') ? [] : [name];
  });
}

describe('feature flags', () => {
  const flags = module.resources.get('azurerm_app_configuration_key.flag')!;
  const variable = evaluate(attribute(module.variables.get('feature_flags')!.body, 'default')!, { module }) as Record<string, unknown>;

  it('creates exactly the flags icebridge reads, under the feature-flag key prefix and content type', () => {
    expect(Object.keys(variable).sort()).toEqual([...ICEBRIDGE_FLAG_NAMES].sort());
    expect(local('feature_flag_prefix')).toBe(FEATURE_FLAG_PREFIX);
    expect(local('feature_flag_content_type')).toBe(FEATURE_FLAG_CONTENT_TYPE);
  });

  it('writes each flag as a document icebridge accepts, off, and never reverts an operator change', () => {
    for (const [name, value] of Object.entries(variable)) {
      const scope = { module, each: { key: name, value } };
      expect(evaluate(attribute(flags.body, 'key')!, scope)).toBe(`${FEATURE_FLAG_PREFIX}${name}`);
      const document = parseFeatureFlag(name, JSON.parse(evaluate(attribute(flags.body, 'value')!, scope) as string));
      expect(document.enabled, name).toBe(false);
    }
    const lifecycle = flags.body.blocks.find((b) => b.type === 'lifecycle');
    const ignored = lifecycle === undefined ? undefined : attribute(lifecycle.body, 'ignore_changes');
    expect(ignored?.kind === 'tuple' && ignored.items.map((i) => i.kind === 'traversal' && i.root)).toEqual(['value']);
  });
});

describe('identity', () => {
  /** `role on scope` for every role assignment to the app's identity. */
  function appRoles(m: TerraformModule): string[] {
    const roles: string[] = [];
    for (const [key, block] of m.resources) {
      if (!key.startsWith('azurerm_role_assignment.')) continue;
      const principal = attribute(block.body, 'principal_id');
      if (!(
        principal?.kind === 'traversal' &&
        principal.root === 'local' &&
        principal.steps[0] &&
        'name' in principal.steps[0] &&
        principal.steps[0].name === 'app_principal'
      ))
        continue;
      const scope = attribute(block.body, 'scope');
      const scopeName = scope?.kind === 'traversal' ? [scope.root, ...scope.steps.map((s) => ('name' in s ? s.name : '[]'))].slice(0, 2).join('.') : '?';
      roles.push(`${String(evaluate(attribute(block.body, 'role_definition_name')!, { module: m }))} on ${scopeName}`);
    }
    return roles.sort();
  }

  it("gives the app's system-assigned identity the roles its settings rely on", () => {
    const app = module.resources.get('azurerm_function_app_flex_consumption.app')!;
    const identity = app.body.blocks.find((b) => b.type === 'identity')!;
    expect(evaluate(attribute(identity.body, 'type')!, { module })).toBe('SystemAssigned');
    expect(evaluate(attribute(app.body, 'runtime_name')!, { module })).toBe('node');
    expect(evaluate(attribute(app.body, 'runtime_version')!, { module })).toBe('22');
    expect(appRoles(module)).toEqual(
      expect.arrayContaining([
        'App Configuration Data Owner on azurerm_app_configuration.flags',
        'Key Vault Secrets User on azurerm_key_vault.main',
        'Storage Blob Data Contributor on azurerm_storage_account.host',
        'Storage Blob Data Contributor on azurerm_storage_account.lake',
      ]),
    );
  });
});

describe('alerts and the workbook', () => {
  const metrics = local<Record<string, string>>('metric');
  const attributes = local<Record<string, string>>('attribute');
  const workbook = JSON.parse(readFileSync(WORKBOOK, 'utf8')) as { version: string; items: { type: number; content: { query?: string } }[] };
  const queries = workbook.items.filter((item) => item.type === 3).map((item) => item.content.query ?? '');

  it('has an alert rule for each condition operators asked for', () => {
    expect(Object.keys(module.locals.get('alerts')?.kind === 'object' ? local<Record<string, unknown>>('alerts') : {}).sort()).toEqual(
      ['consistency-difference', 'drift-found', 'emergency-rollback', 'error-rate', 'stalled-migration', 'sync-lag', 'throughput-below-baseline'].sort(),
    );
  });

  it('reports a workbook query on a metric that is not one of the names', () => {
    expect(unknownMetrics(['customMetrics | where name == "icebridge.copy.rowz"'], new Set(Object.values(metrics)))).toEqual(['icebridge.copy.rowz']);
  });

  it('holds on infra/workbook.json: it parses, queries only the named metrics and dimensions, and shows every metric', () => {
    expect(workbook.version).toBe('Notebook/1.0');
    expect(queries.length).toBeGreaterThan(5);
    expect(unknownMetrics(queries, new Set(Object.values(metrics)))).toEqual([]);
    const dimensions = queries.flatMap((q) => [...q.matchAll(/customDimensions\["([^"]+)"\]/g)].map((m) => m[1]!));
    expect(dimensions.filter((d) => !Object.values(attributes).includes(d))).toEqual([]);
    expect(Object.values(metrics).filter((name) => !queries.some((q) => q.includes(`"${name}"`)))).toEqual([]);
  });

  it('names spans, jobs and statuses the code has', () => {
    const names = readFileSync(path.join(ROOT, 'orchestrators/names.ts'), 'utf8');
    const span = local<string>('commit_span');
    expect(span).toMatch(/^activity /);
    expect(names).toContain(`'${span.replace(/^activity /, '')}'`);
    const statuses = /export type JobStatus = ([^;]+);/.exec(readFileSync(path.join(ROOT, 'shared/run/job-results.ts'), 'utf8'))![1]!;
    for (const status of local<string[]>('job_findings')) expect(statuses).toContain(`'${status}'`);
  });

  const telemetryNames = path.join(ROOT, 'shared/telemetry/names.ts');
  it.skipIf(!existsSync(telemetryNames))('uses only metric and attribute names the telemetry module defines', () => {
    const defined = new Set([...readFileSync(telemetryNames, 'utf8').matchAll(/'(icebridge\.[a-z0-9_.]+)'/g)].map((m) => m[1]!));
    expect([...Object.values(metrics), ...Object.values(attributes)].filter((name) => !defined.has(name))).toEqual([]);
  });
});

/** Metric names a query filters on (`name == "…"`) that are not in `known`. */
function unknownMetrics(queries: readonly string[], known: ReadonlySet<string>): string[] {
  return queries.flatMap((q) => [...q.matchAll(/\bname\s*==\s*"([^"]+)"/g)].map((m) => m[1]!)).filter((name) => !known.has(name));
}
