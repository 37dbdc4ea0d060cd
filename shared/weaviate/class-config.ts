/**
 * Which Weaviate class each fanned-out table becomes, from a JSON configuration (`ICEBRIDGE_WEAVIATE_CLASS_CONFIG`)
 * or by default: the class is the table's entity name, every column a property (named after the column), every
 * string column embedded, and every foreign key to another fanned-out table a cross-reference to its class.
 *
 * ```json
 * { "classes": { "sales.opportunity": {
 *     "class": "Opportunity",
 *     "properties": ["id", "name", "stage", "amount", "description", "account_id", "big_counter"],
 *     "embed": ["name", "description"],
 *     "rename": { "id": "opportunityId" },
 *     "asText": ["big_counter"],
 *     "references": { "opportunity_account_id_fkey": "account" } } } }
 * ```
 *
 * Every object also holds `source_key` (the row's aggregate id), `source_position` (the LSN of its newest
 * change) and `embeddings_version` (the embedder that made its vector).
 */
import { readFile } from 'node:fs/promises';
import { ValidationError } from '../errors';
import type { FanoutReference, FanoutTable } from '../fanout/fanout-types';
import { qualifiedName } from '../fanout/identity';
import { type PropertyEncoding, type WeaviateDataType, propertyEncoding } from './value-mapping';

/** One table's entry of the configuration file. */
export interface TableClassConfig {
  /** Class name (default: the table's entity name). */
  class?: string;
  /** Columns that become properties (default: all). */
  properties?: string[];
  /** Columns whose text makes the vector (default: the string columns among the properties). */
  embed?: string[];
  /** Property name of a column (default: the column name, see `defaultPropertyName`). */
  rename?: Record<string, string>;
  /** Columns stored as exact text whatever their type (a long beyond 2^53, a float that may be NaN). */
  asText?: string[];
  /** Property name of a foreign key's cross-reference, or false for none. */
  references?: Record<string, string | false>;
}

/** The configuration file: per table (`schema.name`, or `name` alone), its class. */
export interface WeaviateClassConfig {
  classes: Record<string, TableClassConfig>;
}

/** A column stored as a property. */
export interface PropertyPlan {
  column: string;
  /** The column's place in the row. */
  index: number;
  name: string;
  encoding: PropertyEncoding;
  embedded: boolean;
}

/** A foreign key stored as a cross-reference. */
export interface ReferencePlan {
  reference: FanoutReference;
  name: string;
  targetClass: string;
  target: FanoutTable;
  /** Places in the row of the reference's columns. */
  indexes: number[];
}

/** What one table becomes in Weaviate. */
export interface WeaviateClassPlan {
  table: FanoutTable;
  className: string;
  properties: PropertyPlan[];
  references: ReferencePlan[];
  /** True when the class has embedded columns: its objects must have a vector. */
  embedded: boolean;
}

/** The properties icebridge adds to every class. */
export const SYSTEM_PROPERTIES = {
  key: 'source_key',
  position: 'source_position',
  embeddingsVersion: 'embeddings_version',
} as const;

const CLASS_NAME = /^[A-Z][_0-9A-Za-z]*$/;
// Weaviate lowers a property name's first letter: a name starting with a capital would not be the name it keeps.
const PROPERTY_NAME = /^[_a-z][_0-9A-Za-z]*$/;
// Names Weaviate keeps for itself.
const RESERVED = new Set(['id', '_id', '_additional', 'meta']);

/** Reads and checks the configuration file; an empty configuration without a path. */
export async function loadClassConfig(path: string | undefined): Promise<WeaviateClassConfig> {
  if (path === undefined) return { classes: {} };
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ValidationError(`the Weaviate class configuration ${path} cannot be read: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ValidationError(`the Weaviate class configuration ${path} is not JSON`);
  }
  return parseClassConfig(json);
}

/** Checks the shape of a configuration value. */
export function parseClassConfig(json: unknown): WeaviateClassConfig {
  if (!isObject(json) || (json.classes !== undefined && !isObject(json.classes))) {
    throw new ValidationError('the Weaviate class configuration must be an object with "classes": { "<schema.table>": { … } }');
  }
  const classes: Record<string, TableClassConfig> = {};
  for (const [table, entry] of Object.entries(json.classes ?? {})) {
    if (!isObject(entry)) throw new ValidationError(`Weaviate class configuration of ${table}: must be an object`);
    const known = new Set(['class', 'properties', 'embed', 'rename', 'asText', 'references']);
    const unknown = Object.keys(entry).filter((k) => !known.has(k));
    if (unknown.length > 0) throw new ValidationError(`Weaviate class configuration of ${table}: unknown field ${unknown.join(', ')}`);
    const config: TableClassConfig = {};
    if (entry.class !== undefined) config.class = stringField(table, 'class', entry.class);
    for (const field of ['properties', 'embed', 'asText'] as const) {
      const value = entry[field];
      if (value === undefined) continue;
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string'))
        throw new ValidationError(`Weaviate class configuration of ${table}: ${field} must be a list of column names`);
      config[field] = value as string[];
    }
    if (entry.rename !== undefined) {
      if (!isObject(entry.rename) || !Object.values(entry.rename).every((v) => typeof v === 'string'))
        throw new ValidationError(`Weaviate class configuration of ${table}: rename must map columns to names`);
      config.rename = entry.rename as Record<string, string>;
    }
    if (entry.references !== undefined) {
      if (!isObject(entry.references) || !Object.values(entry.references).every((v) => typeof v === 'string' || v === false)) {
        throw new ValidationError(`Weaviate class configuration of ${table}: references must map foreign keys to a name or false`);
      }
      config.references = entry.references as Record<string, string | false>;
    }
    classes[table] = config;
  }
  return { classes };
}

/** The class of every table, checked together (class names unique, references to classes that exist); entries for other tables are left for when they come. */
export function planClasses(tables: readonly FanoutTable[], config: WeaviateClassConfig): Map<string, WeaviateClassPlan> {
  const plans = new Map<string, WeaviateClassPlan>();
  const byName = new Map(tables.map((t) => [qualifiedName(t), t]));
  const classOf = new Map(tables.map((t) => [qualifiedName(t), configOf(t, config).class ?? t.entity]));
  const seen = new Map<string, string>();
  for (const [table, className] of classOf) {
    if (!CLASS_NAME.test(className)) throw new ValidationError(`Weaviate class name ${JSON.stringify(className)} of ${table} must match ${CLASS_NAME.source}`);
    const other = seen.get(className.toLowerCase());
    if (other !== undefined)
      throw new ValidationError(`tables ${other} and ${table} would both be Weaviate class ${className}: name one in the class configuration`);
    seen.set(className.toLowerCase(), table);
  }
  for (const table of tables) plans.set(qualifiedName(table), planClass(table, configOf(table, config), classOf.get(qualifiedName(table))!, byName, classOf));
  return plans;
}

function planClass(
  table: FanoutTable,
  config: TableClassConfig,
  className: string,
  tables: ReadonlyMap<string, FanoutTable>,
  classOf: ReadonlyMap<string, string>,
): WeaviateClassPlan {
  const where = `Weaviate class ${className} (${qualifiedName(table)})`;
  const columns = table.columns.map((c) => c.name);
  const checkColumns = (field: string, names: readonly string[] | undefined): void => {
    const missing = (names ?? []).filter((n) => !columns.includes(n));
    if (missing.length > 0) throw new ValidationError(`${where}: ${field} names ${missing.join(', ')}, not a column of the table`);
  };
  checkColumns('properties', config.properties);
  checkColumns('embed', config.embed);
  checkColumns('asText', config.asText);
  checkColumns('rename', Object.keys(config.rename ?? {}));
  const chosen = config.properties ?? columns;
  const names = new Map<string, string>(Object.values(SYSTEM_PROPERTIES).map((n) => [n.toLowerCase(), 'icebridge']));
  const claim = (name: string, owner: string): string => {
    if (!PROPERTY_NAME.test(name) || RESERVED.has(name.toLowerCase()))
      throw new ValidationError(`${where}: property name ${JSON.stringify(name)} of ${owner} is not allowed`);
    const taken = names.get(name.toLowerCase());
    if (taken !== undefined) throw new ValidationError(`${where}: ${owner} and ${taken} would both be property ${name}: rename one`);
    names.set(name.toLowerCase(), owner);
    return name;
  };
  const properties: PropertyPlan[] = [];
  table.columns.forEach((column, index) => {
    if (!chosen.includes(column.name)) return;
    const asText = config.asText?.includes(column.name) ?? false;
    const encoding = propertyEncoding(column.type, asText);
    const embedded = config.embed ? config.embed.includes(column.name) : column.type === 'string';
    const name = claim(config.rename?.[column.name] ?? defaultPropertyName(column.name), `column ${column.name}`);
    properties.push({ column: column.name, index, name, encoding, embedded });
  });
  const unembeddable = properties.filter((p) => p.embedded && !TEXTUAL.has(p.encoding.dataType));
  if (config.embed && unembeddable.length > 0) {
    throw new ValidationError(`${where}: embed names ${unembeddable.map((p) => p.column).join(', ')}, not text`);
  }
  if (config.embed) {
    const notProperties = config.embed.filter((c) => !chosen.includes(c));
    if (notProperties.length > 0) throw new ValidationError(`${where}: embed names ${notProperties.join(', ')}, not among its properties`);
  }
  const references: ReferencePlan[] = [];
  for (const reference of table.references) {
    const configured = config.references?.[reference.name];
    const target = tables.get(qualifiedName(reference.table));
    if (configured === false || target === undefined) continue;
    const name = claim(configured ?? defaultReferenceName(reference, names), `foreign key ${reference.name}`);
    references.push({ reference, name, targetClass: classOf.get(qualifiedName(target))!, target, indexes: reference.columns.map((c) => columns.indexOf(c)) });
  }
  return { table, className, properties, references, embedded: properties.some((p) => p.embedded) };
}

const TEXTUAL = new Set<WeaviateDataType>(['text', 'text[]']);

/** A column's default property name: itself with other characters as `_`, a first capital lowered, Weaviate's reserved names (id, meta) prefixed `row_`. */
export function defaultPropertyName(column: string): string {
  let name = column.replace(/[^_0-9A-Za-z]/g, '_');
  if (!/^[_A-Za-z]/.test(name)) name = `c_${name}`;
  name = name[0]!.toLowerCase() + name.slice(1);
  return RESERVED.has(name.toLowerCase()) ? `row_${name}` : name;
}

function defaultReferenceName(reference: FanoutReference, taken: ReadonlyMap<string, string>): string {
  const base = defaultPropertyName(reference.columns.length === 1 ? reference.columns[0]!.replace(/_?id$/i, '') || reference.name : reference.name);
  return taken.has(base.toLowerCase()) || RESERVED.has(base.toLowerCase()) ? `${base}_ref` : base;
}

function configOf(table: FanoutTable, config: WeaviateClassConfig): TableClassConfig {
  return config.classes[qualifiedName(table)] ?? config.classes[table.name] ?? {};
}

function stringField(table: string, field: string, value: unknown): string {
  if (typeof value !== 'string') throw new ValidationError(`Weaviate class configuration of ${table}: ${field} must be a string`);
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
