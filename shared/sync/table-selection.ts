/**
 * Which of a publication's tables a sync applies (`--tables`, `--schema`). The slot's position is shared by every
 * table of the publication, so the tables left out lose their changes once the slot is confirmed past them: the
 * sync stops them for good (see table-stop.ts), and the CLI asks for `--force` before it does.
 */
import type { TableName } from '../cdc/change-decoder';
import { ValidationError } from '../errors';
import { displayQualified } from '../postgres/identifiers';

/** What the user asked for: table names (`name` or `schema.name`) and schemas; undefined means all. */
export interface TableRequest {
  tables?: readonly string[];
  schemas?: readonly string[];
}

/** The publication's tables split into the ones to sync and the ones left out. */
export interface TableSelection {
  selected: TableName[];
  leftOut: TableName[];
}

/**
 * Resolves the request against the publication's tables. A schema or a table the publication does not hold, or a
 * bare name held by two of the chosen schemas, is a ValidationError naming it.
 */
export function selectTables(published: readonly TableName[], request: TableRequest): TableSelection {
  const schemas = request.schemas;
  if (schemas !== undefined) {
    const unknown = schemas.filter((s) => !published.some((t) => t.schema === s));
    if (unknown.length > 0) throw new ValidationError(`no table of schema ${unknown.join(', ')} is in the run's publication`);
  }
  const inSchemas = published.filter((t) => schemas === undefined || schemas.includes(t.schema));
  let selected = inSchemas;
  if (request.tables !== undefined) {
    const chosen = new Set<TableName>();
    const unknown: string[] = [];
    for (const asked of request.tables) {
      const matches = inSchemas.filter((t) => t.name === asked || `${t.schema}.${t.name}` === asked);
      if (matches.length === 0) unknown.push(asked);
      else if (matches.length > 1) {
        throw new ValidationError(
          `table ${asked} is in several schemas (${matches.map((t) => t.schema).join(', ')}): name it as schema.table or give --schema`,
        );
      } else chosen.add(matches[0]!);
    }
    if (unknown.length > 0)
      throw new ValidationError(`not in the run's publication${schemas === undefined ? '' : ` (schemas ${schemas.join(', ')})`}: ${unknown.join(', ')}`);
    selected = inSchemas.filter((t) => chosen.has(t));
  }
  return { selected, leftOut: published.filter((t) => !selected.includes(t)) };
}

/** `schema.name` of each table, comma-separated, for messages. */
export function tableList(tables: readonly TableName[]): string {
  return tables.map((t) => displayQualified(t.schema, t.name)).join(', ');
}
