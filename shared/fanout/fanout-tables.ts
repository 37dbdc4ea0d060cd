/**
 * The tables the fan-out feeds, as the downstream systems see them: derived from the sync's bindings (the source
 * description and the copy's mapping), so a row of the feed and a row of the historical load have the same columns
 * and Iceberg types as the Iceberg table.
 */
import type { TableBinding, TableName } from '../cdc/change-decoder';
import { ValidationError } from '../errors';
import { displayQualified } from '../postgres/identifiers';
import type { FanoutColumn, FanoutReference, FanoutTable } from './fanout-types';
import { entityName, qualifiedName } from './identity';

/** Options of `fanoutTables`. */
export interface FanoutTablesOptions {
  /** Entity names by `schema.name`, instead of the PascalCase of the table name. */
  entities?: Readonly<Record<string, string>>;
}

/**
 * The fan-out description of each bound table. A table without a key is refused (its rows have no identity for
 * events, analytics versions or objects); a foreign key becomes a reference only when it points at another of the
 * tables, at that table's whole key in key order.
 */
export function fanoutTables(bindings: readonly TableBinding[], options: FanoutTablesOptions = {}): FanoutTable[] {
  const keys = new Map(bindings.map((b) => [qualifiedName(b.table), b.table.key.columns]));
  const entities = new Map<string, string>();
  return bindings.map((binding) => {
    const source = binding.table;
    const name = qualifiedName(source);
    if (source.key.kind === 'none' || source.key.columns.length === 0)
      throw new ValidationError(`table ${displayQualified(source.schema, source.name)} has no primary key or unique index: its rows cannot be fanned out`);
    const entity = options.entities?.[name] ?? entityName(source.name);
    const taken = entities.get(entity);
    if (taken !== undefined) throw new ValidationError(`tables ${taken} and ${name} would both be entity ${entity}: name one of them in the entity settings`);
    entities.set(entity, name);
    const fields = binding.mapping.schema.fields;
    const columns: FanoutColumn[] = binding.mapping.columns.map((plan, i) => ({
      name: plan.name,
      type: fields[i]!.type,
      nullable: !fields[i]!.required,
      sourceType: plan.sourceType,
    }));
    const references: FanoutReference[] = [];
    for (const fk of source.foreignKeys) {
      const target = `${fk.referencedTable.schema}.${fk.referencedTable.name}`;
      const targetKey = keys.get(target);
      if (targetKey === undefined || targetKey.length !== fk.referencedColumns.length) continue;
      if (targetKey.some((column, i) => fk.referencedColumns[i] !== column)) continue;
      references.push({ name: fk.name, columns: [...fk.columns], table: { schema: fk.referencedTable.schema, name: fk.referencedTable.name } });
    }
    return { schema: source.schema, name: source.name, entity, columns, key: [...source.key.columns], references };
  });
}

/** The tables by `schema.name`. */
export function tablesByName(tables: readonly FanoutTable[]): Map<string, FanoutTable> {
  return new Map(tables.map((t) => [qualifiedName(t), t]));
}

/** The table of a change's `TableName`, when it is fanned out. */
export function tableOf(tables: ReadonlyMap<string, FanoutTable>, table: TableName): FanoutTable | undefined {
  return tables.get(`${table.schema}.${table.name}`);
}
