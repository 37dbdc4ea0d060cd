/**
 * Evaluates icebridge's flags for a table and a routing key with Microsoft's `@microsoft/feature-management`
 * (its Targeting filter as shipped; `Microsoft.Percentage` registered here). A percentage is STICKY per routing
 * key: the key and the flag name are hashed (SHA-256, as the Targeting filter buckets users), so one customer's
 * reads do not flip between PostgreSQL and Iceberg from one call to the next; .NET's random Percentage filter
 * would. A per-table override (the flag under the table's label) wins over the default. Flags are cached and
 * reloaded every refresh interval (30 s by default), and only when the store's version (the sentinel key's etag,
 * or the file's stamp) moved, when the store has one.
 */
import { createHash } from 'node:crypto';
import { FeatureManager, type IFeatureFilter, type IFeatureFlagProvider } from '@microsoft/feature-management';
import { ICEBRIDGE_FLAGS, type FeatureFlag } from './feature-flag';
import type { FlagStore, StoredFlag } from './flag-store';

/** The library's flag type (it does not export the name). */
type LibraryFlag = Awaited<ReturnType<IFeatureFlagProvider['getFeatureFlags']>>[number];

/** Where a table's traffic goes for one routing key. */
export interface RoutingDecision {
  /** Reads go to Iceberg (the master switch is on and the key falls inside the read percentage). */
  readFromIceberg: boolean;
  /** Reads go to both sides and are compared. */
  validateReads: boolean;
  /** Writes go to both sides. */
  dualWrite: boolean;
  /** Iceberg is the primary for writes. */
  icebergPrimary: boolean;
}

/** Options of the evaluator. */
export interface FlagEvaluatorOptions {
  /** How long flags are served from the cache before the store is asked again; default 30,000 ms. */
  refreshIntervalMs?: number;
  /** The clock, for tests. */
  now?: () => number;
}

/** A position in [0, 100) for a routing key and a flag: the same key always lands on the same position. */
export function stickyPercentile(routingKey: string, flagName: string): number {
  const digest = createHash('sha256').update(`${routingKey}\n${flagName}`).digest();
  return (digest.readUInt32LE(0) / 0x1_0000_0000) * 100;
}

/** `Microsoft.Percentage`, sticky per routing key (the evaluation context's `userId`). */
const percentageFilter: IFeatureFilter = {
  name: 'Microsoft.Percentage',
  evaluate(context, appContext) {
    const value = (context.parameters as { Value?: unknown } | undefined)?.Value;
    const key = (appContext as { userId?: unknown } | undefined)?.userId;
    if (typeof value !== 'number' || typeof key !== 'string') return false;
    return stickyPercentile(key, context.featureName) < value;
  },
};

/** Evaluates flags from a store, with a cache. */
export class FlagEvaluator {
  private readonly refreshMs: number;
  private readonly now: () => number;
  private cached: { flags: StoredFlag[]; version: string | undefined; checkedAt: number } | undefined;
  private loading: Promise<StoredFlag[]> | undefined;

  constructor(
    private readonly store: FlagStore,
    options: FlagEvaluatorOptions = {},
  ) {
    this.refreshMs = options.refreshIntervalMs ?? 30_000;
    this.now = options.now ?? Date.now;
  }

  /** The routing decision for one table (`schema.table`) and routing key. */
  async decide(table: string, routingKey: string): Promise<RoutingDecision> {
    const flags = await this.flags();
    const manager = new FeatureManager(new TableFlags(flags, table), { customFilters: [percentageFilter] });
    const context = { userId: routingKey };
    const on = (name: string): Promise<boolean> => manager.isEnabled(name, context);
    const [storage, percentage, validate, dual, primary] = await Promise.all([
      on(ICEBRIDGE_FLAGS.useIcebergStorage),
      // No percentage flag means all reads, once the master switch is on.
      flags.some((f) => f.name === ICEBRIDGE_FLAGS.icebergReadPercentage) ? on(ICEBRIDGE_FLAGS.icebergReadPercentage) : Promise.resolve(true),
      on(ICEBRIDGE_FLAGS.validateDualWrites),
      on(ICEBRIDGE_FLAGS.dualWriteMode),
      on(ICEBRIDGE_FLAGS.useIcebergAsPrimary),
    ]);
    return { readFromIceberg: storage && percentage, validateReads: validate, dualWrite: dual, icebergPrimary: primary };
  }

  /** Drops the cache: the next decision reads the store. */
  invalidate(): void {
    this.cached = undefined;
  }

  private async flags(): Promise<StoredFlag[]> {
    const now = this.now();
    if (this.cached !== undefined && now - this.cached.checkedAt < this.refreshMs) return this.cached.flags;
    this.loading ??= this.reload(now).finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async reload(now: number): Promise<StoredFlag[]> {
    const version = await this.store.version();
    if (this.cached !== undefined && version !== undefined && version === this.cached.version) {
      this.cached.checkedAt = now;
      return this.cached.flags;
    }
    const flags = await this.store.list();
    this.cached = { flags, version, checkedAt: now };
    return flags;
  }
}

/** The flags as one table sees them: its override where it has one, else the default. */
class TableFlags implements IFeatureFlagProvider {
  private readonly byName = new Map<string, FeatureFlag>();

  constructor(flags: readonly StoredFlag[], table: string) {
    for (const f of flags) if (f.label === undefined) this.byName.set(f.name, f.flag);
    for (const f of flags) if (f.label === table) this.byName.set(f.name, f.flag);
  }

  getFeatureFlag(name: string): Promise<LibraryFlag | undefined> {
    return Promise.resolve(this.byName.get(name));
  }

  getFeatureFlags(): Promise<LibraryFlag[]> {
    return Promise.resolve([...this.byName.values()]);
  }
}
