/**
 * The router's dual writes: after the primary took a write, the secondary is written too. Its failure never fails
 * the caller: the write is queued for reconciliation (a durable entry in the warehouse, reconcile-queue.ts) before
 * the caller's promise resolves, so nothing the primary holds is forgotten by the secondary for good.
 */
import { errorMessage } from '../errors';
import type { Catalog } from '../iceberg/catalog/catalog';
import type { TableIdentifier } from '../iceberg/catalog/table-identifier';
import type { Value } from '../iceberg/spec/values';
import { ReconcileQueue } from './reconcile-queue';
import type { RouterStats, SecondaryFailure } from './router';

/** Dual writes and their reconciliation queue, for every table a router opened. */
export class SecondaryWrites {
  private readonly depths = new Map<string, number>();

  constructor(
    private readonly catalog: Catalog,
    private readonly stats: RouterStats,
    private readonly report: (failure: SecondaryFailure) => void,
  ) {}

  /** Counts what waits in the table's queue already (the stats' depth). */
  async watch(table: string, id: TableIdentifier): Promise<void> {
    try {
      this.depths.set(table, await ReconcileQueue.of(this.catalog, id).depth());
    } catch {
      // A queue that cannot be listed now does not stop the table from opening; its depth is counted later.
    }
    this.refreshDepth();
  }

  /** Writes the secondary (the side other than `source`); a failure is queued and reported, never thrown. */
  async write(
    table: string,
    id: TableIdentifier,
    operation: 'save' | 'delete',
    key: Value[],
    source: 'postgres' | 'iceberg',
    make: () => Promise<unknown>,
  ): Promise<void> {
    const target = source === 'postgres' ? 'iceberg' : 'postgres';
    try {
      await make();
      this.stats.secondaryWrites++;
      return;
    } catch (error) {
      this.stats.secondaryWriteFailures++;
      const reason = errorMessage(error);
      const queue = ReconcileQueue.of(this.catalog, id);
      try {
        await queue.add({ at: new Date().toISOString(), table, iceberg: id, source, target, operation, key, error: reason });
        this.stats.reconcile.queued++;
        this.depths.set(table, await queue.depth().catch(() => (this.depths.get(table) ?? 0) + 1));
        this.refreshDepth();
        this.report({ table, side: target, operation: 'write', queued: true, error: reason });
      } catch (queueError) {
        this.report({
          table,
          side: target,
          operation: 'write',
          queued: false,
          error: `${reason}; and the reconciliation entry could not be written (${errorMessage(queueError)}): the ${target} side misses this write until a full reconciliation`,
        });
      }
    }
  }

  private refreshDepth(): void {
    let depth = 0;
    for (const n of this.depths.values()) depth += n;
    this.stats.reconcile.depth = depth;
  }
}
