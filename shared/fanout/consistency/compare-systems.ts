/**
 * The cross-system comparison: per table, every system's live keys against PostgreSQL's (exact, not "within
 * 100"), the source position each sink holds per key against the newest any of them holds, each system's own
 * findings, and freshness. Every difference names the entity, the key and the systems involved.
 */
import { type Lsn, formatLsn } from '../../cdc/lsn';
import type { FanoutTable, SystemInventory, SystemName } from '../fanout-types';
import { qualifiedName } from '../identity';

/** Kinds of difference. */
export type DifferenceKind = 'missing' | 'orphan' | 'stale' | 'finding';

/** One difference: a key a system lacks, holds without a source row, holds at an older position, or a system's own finding. */
export interface FanoutDifference {
  entity: string;
  table: string;
  key: string;
  kind: DifferenceKind;
  /** The systems at fault (for `missing`: those without the key; `orphan`: those holding it; `stale`: those behind). */
  systems: SystemName[];
  detail: string;
}

/** One table's comparison. */
export interface TableComparison {
  table: string;
  entity: string;
  /** Live rows per system. */
  counts: Partial<Record<SystemName, number>>;
  /** The newest source position each system holds ('X/Y'), where it keeps one. */
  newest: Partial<Record<SystemName, string>>;
  /** Bytes of WAL each system's newest position is behind the newest of all (freshness); 0 for the freshest. */
  behindBytes: Partial<Record<SystemName, number>>;
  figures: Partial<Record<SystemName, Record<string, number | string>>>;
  /** The first `maxDifferences` differences, in key order per kind. */
  differences: FanoutDifference[];
  differenceCount: number;
}

/** Compares the inventories of one table; PostgreSQL's inventory is the reference and must be among them. */
export function compareSystems(table: FanoutTable, inventories: readonly SystemInventory[], maxDifferences = 1000): TableComparison {
  const source = inventories.find((i) => i.system === 'postgres');
  if (source === undefined) throw new TypeError('the comparison needs the PostgreSQL inventory');
  const name = qualifiedName(table);
  const comparison: TableComparison = {
    table: name,
    entity: table.entity,
    counts: {},
    newest: {},
    behindBytes: {},
    figures: {},
    differences: [],
    differenceCount: 0,
  };
  const add = (difference: Omit<FanoutDifference, 'entity' | 'table'>): void => {
    comparison.differenceCount++;
    if (comparison.differences.length < maxDifferences) comparison.differences.push({ entity: table.entity, table: name, ...difference });
  };
  let freshest: Lsn | undefined;
  for (const inventory of inventories) {
    comparison.counts[inventory.system] = inventory.live.size;
    comparison.figures[inventory.system] = inventory.figures;
    if (inventory.newest !== undefined) {
      comparison.newest[inventory.system] = formatLsn(inventory.newest);
      if (freshest === undefined || inventory.newest > freshest) freshest = inventory.newest;
    }
  }
  for (const inventory of inventories)
    if (inventory.newest !== undefined && freshest !== undefined) comparison.behindBytes[inventory.system] = Number(freshest - inventory.newest);

  const others = inventories.filter((i) => i !== source);
  for (const key of [...source.live.keys()].sort()) {
    const lacking = others.filter((i) => !i.live.has(key)).map((i) => i.system);
    if (lacking.length > 0) add({ key, kind: 'missing', systems: lacking, detail: `the source row is not in ${lacking.join(', ')}` });
    const positioned = others.filter((i) => i.system !== 'iceberg' && i.live.has(key));
    const newest = positioned.reduce<Lsn>((high, i) => (i.live.get(key)! > high ? i.live.get(key)! : high), 0n);
    const behind = positioned.filter((i) => i.live.get(key)! < newest);
    if (behind.length > 0)
      add({
        key,
        kind: 'stale',
        systems: behind.map((i) => i.system),
        detail: `holds the change at ${behind.map((i) => `${i.system} ${formatLsn(i.live.get(key)!)}`).join(', ')}; the newest is ${formatLsn(newest)}`,
      });
  }
  const orphans = new Map<string, SystemName[]>();
  for (const inventory of others)
    for (const key of inventory.live.keys()) if (!source.live.has(key)) orphans.set(key, [...(orphans.get(key) ?? []), inventory.system]);
  for (const [key, systems] of [...orphans].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    add({ key, kind: 'orphan', systems, detail: `${systems.join(', ')} hold a row the source does not have` });
  for (const inventory of inventories)
    for (const finding of inventory.findings) add({ key: finding.key, kind: 'finding', systems: [inventory.system], detail: finding.problem });
  return comparison;
}
