/**
 * Feature flags in Microsoft's format, as Azure App Configuration stores them: the key is
 * `.appconfig.featureflag/<name>`, the content type the feature-flag one, the value a JSON document with `id`,
 * `enabled` and `conditions.client_filters`. A per-table override is the same flag under a label naming the table.
 * Only the filters icebridge evaluates are accepted, with their parameters checked, so a flag that would evaluate
 * to something other than what its author meant is refused when written, not discovered when read.
 */
import { ValidationError } from '../errors';

/** The key prefix of feature flags in App Configuration. */
export const FEATURE_FLAG_PREFIX = '.appconfig.featureflag/';
/** The content type App Configuration gives feature flags. */
export const FEATURE_FLAG_CONTENT_TYPE = 'application/vnd.microsoft.appconfig.ff+json;charset=utf-8';

/** The flags icebridge reads, in the order an operator moves through them. */
export const ICEBRIDGE_FLAGS = {
  /** Master switch for reads: off means every read goes to PostgreSQL whatever the percentage says. */
  useIcebergStorage: 'use-iceberg-storage',
  /** The share of routing keys whose reads go to Iceberg (a `Microsoft.Percentage` filter), when the switch is on. */
  icebergReadPercentage: 'iceberg-read-percentage',
  /** Writes go to both sides: the router writes the secondary itself when no change capture does. */
  dualWriteMode: 'dual-write-mode',
  /** Reads go to both sides and are compared; the caller gets the primary's answer. */
  validateDualWrites: 'validate-dual-writes',
  /** Iceberg is the primary: writes go there first. */
  useIcebergAsPrimary: 'use-iceberg-as-primary',
} as const;

/** One of icebridge's flag names. */
export type IcebridgeFlagName = (typeof ICEBRIDGE_FLAGS)[keyof typeof ICEBRIDGE_FLAGS];

/** Every icebridge flag name. */
export const ICEBRIDGE_FLAG_NAMES: readonly IcebridgeFlagName[] = Object.values(ICEBRIDGE_FLAGS);

/** `Microsoft.Percentage`: on for `Value` percent of routing keys (sticky per key here, see flag-evaluator.ts). */
export interface PercentageFilter {
  name: 'Microsoft.Percentage';
  parameters: { Value: number };
}

/** `Microsoft.Targeting`: named users and groups, and a default share of everyone else. */
export interface TargetingFilter {
  name: 'Microsoft.Targeting';
  parameters: {
    Audience: {
      Users?: string[];
      Groups?: { Name: string; RolloutPercentage: number }[];
      DefaultRolloutPercentage: number;
      Exclusion?: { Users?: string[]; Groups?: string[] };
    };
  };
}

/** A client filter icebridge evaluates. */
export type ClientFilter = PercentageFilter | TargetingFilter;

/** A feature flag document (the value stored under the flag's key). */
export interface FeatureFlag {
  id: string;
  description?: string;
  enabled: boolean;
  conditions?: { requirement_type?: 'Any' | 'All'; client_filters?: ClientFilter[] };
}

/** The characters App Configuration allows in a feature flag name (and `.`, `-`, `_`). */
const NAME = /^[A-Za-z0-9._-]+$/;

/** Refuses a flag name App Configuration would refuse or that could not be told apart in a key. */
export function checkFlagName(name: string): string {
  if (!NAME.test(name)) throw new ValidationError(`flag name ${JSON.stringify(name)} may only hold letters, digits, '.', '-' and '_'`);
  return name;
}

/** The App Configuration key of a flag. */
export function flagKey(name: string): string {
  return FEATURE_FLAG_PREFIX + checkFlagName(name);
}

/** The flag name of an App Configuration key, or undefined when the key is not a feature flag's. */
export function flagNameOfKey(key: string): string | undefined {
  return key.startsWith(FEATURE_FLAG_PREFIX) ? key.slice(FEATURE_FLAG_PREFIX.length) : undefined;
}

/** A flag that is simply on or off. */
export function switchFlag(name: string, enabled: boolean, description?: string): FeatureFlag {
  return { id: checkFlagName(name), enabled, ...(description === undefined ? {} : { description }) };
}

/** A flag on for `percent` percent of routing keys (`Microsoft.Percentage`); 0 is off, 100 is everyone. */
export function percentageFlag(name: string, percent: number, description?: string): FeatureFlag {
  checkPercent(percent, `${name}: the percentage`);
  return {
    id: checkFlagName(name),
    enabled: percent > 0,
    ...(description === undefined ? {} : { description }),
    conditions: { client_filters: [{ name: 'Microsoft.Percentage', parameters: { Value: percent } }] },
  };
}

/** The percentage of a flag: 100 when on without filters, 0 when off, else its `Microsoft.Percentage` value. */
export function flagPercentage(flag: FeatureFlag): number | undefined {
  if (!flag.enabled) return 0;
  const filters = flag.conditions?.client_filters ?? [];
  if (filters.length === 0) return 100;
  const percentage = filters.find((f): f is PercentageFilter => f.name === 'Microsoft.Percentage');
  return filters.length === 1 && percentage ? percentage.parameters.Value : undefined;
}

/**
 * Parses and checks a flag document: its `id` must be `name`, `enabled` a boolean, and each client filter one
 * icebridge evaluates with well-formed parameters. The error names the flag and what is wrong.
 */
export function parseFeatureFlag(name: string, value: unknown): FeatureFlag {
  const where = `flag ${name}`;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ValidationError(`${where}: the value must be a JSON object`);
  const doc = value as Record<string, unknown>;
  if (doc['id'] !== name) throw new ValidationError(`${where}: "id" must be ${JSON.stringify(name)}, found ${JSON.stringify(doc['id'])}`);
  if (typeof doc['enabled'] !== 'boolean') throw new ValidationError(`${where}: "enabled" must be true or false`);
  const description = doc['description'];
  if (description !== undefined && typeof description !== 'string') throw new ValidationError(`${where}: "description" must be text`);
  const flag: FeatureFlag = { id: name, enabled: doc['enabled'], ...(description === undefined ? {} : { description }) };
  const conditions = doc['conditions'];
  if (conditions === undefined || conditions === null) return flag;
  if (typeof conditions !== 'object' || Array.isArray(conditions)) throw new ValidationError(`${where}: "conditions" must be an object`);
  const c = conditions as Record<string, unknown>;
  const requirement = c['requirement_type'];
  if (requirement !== undefined && requirement !== 'Any' && requirement !== 'All')
    throw new ValidationError(`${where}: "requirement_type" must be "Any" or "All"`);
  const filters = c['client_filters'] ?? [];
  if (!Array.isArray(filters)) throw new ValidationError(`${where}: "client_filters" must be an array`);
  flag.conditions = {
    ...(requirement === undefined ? {} : { requirement_type: requirement }),
    client_filters: filters.map((f: unknown, i) => parseFilter(`${where}: client_filters[${i}]`, f)),
  };
  return flag;
}

function parseFilter(where: string, value: unknown): ClientFilter {
  if (typeof value !== 'object' || value === null) throw new ValidationError(`${where} must be an object`);
  const filter = value as { name?: unknown; parameters?: unknown };
  const parameters = (typeof filter.parameters === 'object' && filter.parameters !== null ? filter.parameters : {}) as Record<string, unknown>;
  if (filter.name === 'Microsoft.Percentage') {
    return { name: 'Microsoft.Percentage', parameters: { Value: checkPercent(parameters['Value'], `${where}: Value`) } };
  }
  if (filter.name === 'Microsoft.Targeting') {
    const audience = parameters['Audience'];
    if (typeof audience !== 'object' || audience === null) throw new ValidationError(`${where}: Microsoft.Targeting needs parameters.Audience`);
    const a = audience as Record<string, unknown>;
    const users = stringList(a['Users'], `${where}: Audience.Users`);
    const groups = a['Groups'] === undefined ? undefined : groupList(a['Groups'], `${where}: Audience.Groups`);
    const exclusion = a['Exclusion'] as Record<string, unknown> | undefined;
    const excludedUsers = stringList(exclusion?.['Users'], `${where}: Audience.Exclusion.Users`);
    const excludedGroups = stringList(exclusion?.['Groups'], `${where}: Audience.Exclusion.Groups`);
    return {
      name: 'Microsoft.Targeting',
      parameters: {
        Audience: {
          ...(users ? { Users: users } : {}),
          ...(groups ? { Groups: groups } : {}),
          DefaultRolloutPercentage: checkPercent(a['DefaultRolloutPercentage'], `${where}: Audience.DefaultRolloutPercentage`),
          ...(excludedUsers || excludedGroups
            ? { Exclusion: { ...(excludedUsers ? { Users: excludedUsers } : {}), ...(excludedGroups ? { Groups: excludedGroups } : {}) } }
            : {}),
        },
      },
    };
  }
  throw new ValidationError(`${where}: filter ${JSON.stringify(filter.name)} is not one icebridge evaluates (Microsoft.Percentage, Microsoft.Targeting)`);
}

function checkPercent(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 100) {
    throw new ValidationError(`${where} must be a number from 0 to 100, found ${JSON.stringify(value)}`);
  }
  return value;
}

function stringList(value: unknown, where: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw new ValidationError(`${where} must be an array of text`);
  return value as string[];
}

function groupList(value: unknown, where: string): { Name: string; RolloutPercentage: number }[] {
  if (!Array.isArray(value)) throw new ValidationError(`${where} must be an array`);
  return value.map((g: unknown, i) => {
    const group = (g ?? {}) as Record<string, unknown>;
    if (typeof group['Name'] !== 'string') throw new ValidationError(`${where}[${i}].Name must be text`);
    return { Name: group['Name'], RolloutPercentage: checkPercent(group['RolloutPercentage'], `${where}[${i}].RolloutPercentage`) };
  });
}
