/**
 * The behaviour every Catalog must share, whatever keeps its tables (version files on a FileIO, a REST server).
 * The checks are plain functions, so a test can also run them against a deliberately broken catalog and see
 * which of them catch it; `describeCatalogContract` registers each as a test for one implementation.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AlreadyExistsError, CommitConflictError, TableNotFoundError } from '../../../shared/errors';
import type { Catalog, Table } from '../../../shared/iceberg/catalog/catalog';
import type { TableIdentifier } from '../../../shared/iceberg/catalog/table-identifier';
import type { PartitionSpec } from '../../../shared/iceberg/spec/partition-spec';
import { createSchema } from '../../../shared/iceberg/spec/schema';
import { MAIN_BRANCH, type Snapshot } from '../../../shared/iceberg/spec/snapshot';
import { currentSchema } from '../../../shared/iceberg/spec/table-metadata';
import type { TableRequirement, TableUpdate } from '../../../shared/iceberg/spec/updates';

/** What one check needs: a catalog over storage of its own, and a way to open that storage again. */
export interface CatalogContractTarget {
  /** The catalog under test; no other check sees its tables. */
  catalog: Catalog;
  /** A second, independent instance over the same tables, as another process would open it. */
  reopen: () => Catalog;
}

/** One behaviour of the contract, runnable outside a test block. */
export interface CatalogContractCheck {
  name: string;
  run(target: CatalogContractTarget): Promise<void>;
}

const schema = createSchema([
  { id: 1, name: 'id', required: true, type: 'long' },
  { id: 2, name: 'name', required: false, type: 'string' },
]);
const spec: PartitionSpec = { 'spec-id': 0, fields: [{ 'source-id': 1, 'field-id': 1000, name: 'id_bucket', transform: 'bucket[4]' }] };

/** A commit that adds a snapshot on top of `base`'s current one and makes it current, stating what it builds on. */
function appendSnapshot(base: Table, snapshotId: bigint): { requirements: TableRequirement[]; updates: TableUpdate[] } {
  const parent = base.metadata['current-snapshot-id'];
  const snapshot: Snapshot = {
    'snapshot-id': snapshotId,
    'sequence-number': base.metadata['last-sequence-number'] + 1n,
    'timestamp-ms': base.metadata['last-updated-ms'] + 1,
    // The catalog records the manifest list's location; it never reads it.
    'manifest-list': `${base.metadata.location}/metadata/snap-${snapshotId}-contract.avro`,
    summary: { operation: 'append' },
    'schema-id': base.metadata['current-schema-id'],
    ...(parent === undefined ? {} : { 'parent-snapshot-id': parent }),
  };
  return {
    requirements: [
      { type: 'assert-table-uuid', uuid: base.metadata['table-uuid'] },
      { type: 'assert-ref-snapshot-id', ref: MAIN_BRANCH, 'snapshot-id': parent ?? null },
    ],
    updates: [
      { action: 'add-snapshot', snapshot },
      { action: 'set-snapshot-ref', 'ref-name': MAIN_BRANCH, type: 'branch', 'snapshot-id': snapshotId },
    ],
  };
}

/** A commit that adds a column named `column` and makes that schema current, on the schema `base` has. */
function addColumn(base: Table, column: string): { requirements: TableRequirement[]; updates: TableUpdate[] } {
  const current = currentSchema(base.metadata);
  const fieldId = base.metadata['last-column-id'] + 1;
  return {
    requirements: [{ type: 'assert-current-schema-id', 'current-schema-id': current['schema-id'] }],
    updates: [
      {
        action: 'add-schema',
        schema: { ...current, fields: [...current.fields, { id: fieldId, name: column, required: false, type: 'string' }] },
        'last-column-id': fieldId,
      },
      { action: 'set-current-schema', 'schema-id': -1 },
    ],
  };
}

/** Asserts that each catalog loads `id` exactly as `expected`. */
async function expectLoadsAs(catalogs: Catalog[], id: TableIdentifier, expected: Table): Promise<void> {
  for (const catalog of catalogs) {
    const loaded = await catalog.loadTable(id);
    expect(loaded.identifier).toEqual(id);
    expect(loaded.metadataLocation).toBe(expected.metadataLocation);
    expect(loaded.metadata).toEqual(expected.metadata);
  }
}

/** Name of the check for table names holding '#' or '?', which storage addressed by URI may refuse. */
export const RESERVED_NAMES_CHECK = "keeps names with a URI's reserved characters ('#', '?') exactly";

/** Creates a table of each name in `namespace` and asserts that listings and loads give every name back exactly. */
async function expectNamesRoundTrip({ catalog, reopen }: CatalogContractTarget, namespace: string[], names: string[]): Promise<void> {
  const created = new Map<string, Table>();
  for (const name of names) created.set(name, await catalog.createTable({ namespace, name }, { schema, properties: { name } }));
  const expected = [...names].sort().map((name) => ({ namespace, name }));
  expect(await catalog.listTables(namespace)).toEqual(expected);
  expect(await reopen().listTables(namespace)).toEqual(expected);
  for (const name of names) {
    const table = await reopen().loadTable({ namespace, name });
    expect(table.identifier).toEqual({ namespace, name });
    expect(table.metadata.properties.name).toBe(name);
    expect(table.metadata['table-uuid']).toBe(created.get(name)!.metadata['table-uuid']);
  }
}

/** Every check of the contract, in the order they are registered. */
export const CATALOG_CONTRACT: readonly CatalogContractCheck[] = [
  {
    name: 'creates a table that loads back with the same metadata, in this instance and a fresh one',
    async run({ catalog, reopen }) {
      const id = { namespace: ['contract'], name: 'created' };
      expect(await catalog.tableExists(id)).toBe(false);
      const created = await catalog.createTable(id, { schema, spec, properties: { owner: 'contract' } });
      expect(created.identifier).toEqual(id);
      expect(created.metadata.location).toBe(catalog.tableLocation(id));
      expect(created.metadata['table-uuid']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(currentSchema(created.metadata).fields).toEqual(schema.fields);
      expect(created.metadata['partition-specs'][0]!.fields).toEqual(spec.fields);
      expect(created.metadata.properties.owner).toBe('contract');
      expect(created.metadata.snapshots).toEqual([]);
      expect(created.metadata['current-snapshot-id']).toBeUndefined();
      await expectLoadsAs([catalog, reopen()], id, created);
      expect(await catalog.tryLoadTable(id)).toEqual(await catalog.loadTable(id));
      expect(await catalog.tableExists(id)).toBe(true);
      expect(await reopen().tableExists(id)).toBe(true);
    },
  },
  {
    name: 'refuses to create a table that exists, leaving it as it was',
    async run({ catalog, reopen }) {
      const id = { namespace: ['contract'], name: 'twice' };
      const first = await catalog.createTable(id, { schema });
      await expect(catalog.createTable(id, { schema, properties: { second: 'yes' } })).rejects.toBeInstanceOf(AlreadyExistsError);
      await expect(reopen().createTable(id, { schema })).rejects.toBeInstanceOf(AlreadyExistsError);
      await expectLoadsAs([catalog, reopen()], id, first);
    },
  },
  {
    name: 'reports a missing table as TableNotFoundError, and as absent to tryLoadTable and tableExists',
    async run({ catalog }) {
      await catalog.createTable({ namespace: ['contract'], name: 'present' }, { schema });
      for (const id of [
        { namespace: ['contract'], name: 'missing' },
        { namespace: ['no-such-namespace'], name: 'present' },
      ]) {
        await expect(catalog.loadTable(id)).rejects.toBeInstanceOf(TableNotFoundError);
        expect(await catalog.tryLoadTable(id)).toBeUndefined();
        expect(await catalog.tableExists(id)).toBe(false);
      }
    },
  },
  {
    name: 'lists the tables directly in a namespace, sorted, and none for a namespace without tables',
    async run({ catalog, reopen }) {
      for (const name of ['b', 'c', 'a']) await catalog.createTable({ namespace: ['listing'], name }, { schema });
      await catalog.createTable({ namespace: ['listing', 'inner'], name: 'nested' }, { schema });
      await catalog.createTable({ namespace: ['elsewhere'], name: 'other' }, { schema });
      const expected = ['a', 'b', 'c'].map((name) => ({ namespace: ['listing'], name }));
      expect(await catalog.listTables(['listing'])).toEqual(expected);
      expect(await reopen().listTables(['listing'])).toEqual(expected);
      expect(await catalog.listTables(['listing', 'inner'])).toEqual([{ namespace: ['listing', 'inner'], name: 'nested' }]);
      expect(await catalog.listTables(['no-such-namespace'])).toEqual([]);
    },
  },
  {
    name: 'drops a table from loads, listings and tableExists, frees its name, and drops a missing table quietly',
    async run({ catalog, reopen }) {
      const [gone, kept, purged] = ['gone', 'kept', 'purged'].map((name) => ({ namespace: ['dropping'], name }));
      const before = await catalog.createTable(gone!, { schema });
      await catalog.createTable(kept!, { schema });
      await catalog.createTable(purged!, { schema });
      await catalog.dropTable(gone!);
      await catalog.dropTable(purged!, { purge: true });
      for (const view of [catalog, reopen()]) {
        for (const id of [gone!, purged!]) {
          expect(await view.tableExists(id)).toBe(false);
          expect(await view.tryLoadTable(id)).toBeUndefined();
          await expect(view.loadTable(id)).rejects.toBeInstanceOf(TableNotFoundError);
        }
        expect(await view.listTables(['dropping'])).toEqual([kept]);
      }
      await catalog.dropTable(gone!);
      await catalog.dropTable({ namespace: ['dropping'], name: 'never-created' });
      const again = await catalog.createTable(gone!, { schema });
      expect(again.metadata['table-uuid']).not.toBe(before.metadata['table-uuid']);
      await expectLoadsAs([catalog, reopen()], gone!, again);
    },
  },
  {
    name: 'refuses a commit whose requirement fails with CommitConflictError, changing nothing',
    async run({ catalog, reopen }) {
      const id = { namespace: ['contract'], name: 'required' };
      await catalog.createTable(id, { schema });
      const base = await catalog.loadTable(id);
      const current = base.metadata['current-schema-id'];
      const holds = appendSnapshot(base, 11n).requirements;
      const failing: TableRequirement[] = [
        { type: 'assert-table-uuid', uuid: randomUUID() },
        { type: 'assert-ref-snapshot-id', ref: MAIN_BRANCH, 'snapshot-id': 42n },
        { type: 'assert-current-schema-id', 'current-schema-id': current + 1 },
        { type: 'assert-last-assigned-field-id', 'last-assigned-field-id': base.metadata['last-column-id'] + 1 },
        { type: 'assert-create' },
      ];
      const { updates } = appendSnapshot(base, 11n);
      for (const requirement of failing) {
        // Every other requirement holds, so the one named is what refuses the commit.
        await expect(catalog.commit(base, [...holds, requirement], updates), requirement.type).rejects.toBeInstanceOf(CommitConflictError);
      }
      await expectLoadsAs([catalog, reopen()], id, base);
      // The same change with requirements that hold is accepted: the refusals were the requirements' doing.
      const committed = await catalog.commit(base, holds, updates);
      expect(committed.metadata['current-snapshot-id']).toBe(11n);
    },
  },
  {
    name: 'refuses the later of two commits from the same base once the earlier one broke its requirement',
    async run({ catalog, reopen }) {
      const id = { namespace: ['contract'], name: 'raced' };
      await catalog.createTable(id, { schema });
      // Two writers that planned on the same base commit at once: exactly one lands.
      const base = await catalog.loadTable(id);
      const attempts = [21n, 22n].map((snapshotId) => {
        const { requirements, updates } = appendSnapshot(base, snapshotId);
        return (snapshotId === 21n ? catalog : reopen()).commit(base, requirements, updates);
      });
      const outcomes = await Promise.allSettled(attempts);
      const landed = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
      const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
      expect(landed).toHaveLength(1);
      expect(refused).toHaveLength(1);
      expect(refused[0]).toBeInstanceOf(CommitConflictError);
      await expectLoadsAs([catalog, reopen()], id, landed[0]!);
      expect(landed[0]!.metadata.snapshots).toHaveLength(1);
      // One after the other: the later writer's requirement no longer holds on the table as it now is.
      const next = await catalog.loadTable(id);
      const early = addColumn(next, 'first');
      const first = await catalog.commit(next, early.requirements, early.updates);
      const late = addColumn(next, 'second');
      await expect(reopen().commit(next, late.requirements, late.updates)).rejects.toBeInstanceOf(CommitConflictError);
      await expectLoadsAs([catalog, reopen()], id, first);
      expect(currentSchema(first.metadata).fields.map((f) => f.name)).toEqual(['id', 'name', 'first']);
    },
  },
  {
    name: 'makes a committed change visible to a fresh instance, with the previous metadata file in its log',
    async run({ catalog, reopen }) {
      const id = { namespace: ['contract'], name: 'visible' };
      const created = await catalog.createTable(id, { schema });
      const change = appendSnapshot(created, 31n);
      const committed = await catalog.commit(created, change.requirements, [
        ...change.updates,
        { action: 'set-properties', updates: { 'written-by': 'first' } },
      ]);
      expect(committed.identifier).toEqual(id);
      expect(committed.metadataLocation).not.toBe(created.metadataLocation);
      expect(committed.metadata['current-snapshot-id']).toBe(31n);
      expect(committed.metadata.properties['written-by']).toBe('first');
      expect(committed.metadata['metadata-log'].at(-1)?.['metadata-file']).toBe(created.metadataLocation);
      await expectLoadsAs([reopen(), catalog], id, committed);
      // And the other way: what a second instance commits, the first one loads.
      const other = reopen();
      const base = await other.loadTable(id);
      const second = appendSnapshot(base, 32n);
      const again = await other.commit(base, second.requirements, second.updates);
      await expectLoadsAs([catalog, reopen()], id, again);
      expect(again.metadata.snapshots.map((s) => s['snapshot-id'])).toEqual([31n, 32n]);
    },
  },
  {
    name: 'keeps names exactly as given: non-ASCII, differently normalised and path-like names round-trip',
    async run(target) {
      // 'café' composed and decomposed are different names, as PostgreSQL treats them.
      await expectNamesRoundTrip(
        target,
        ['Zürich', '東京'],
        ['Ärger', 'таблица', 'naïve café', 'cafe\u0301', 'caf\u00e9', '🧊 ice', 'a/b', '100%', 'per cent %41', 'x.y'],
      );
    },
  },
  {
    name: RESERVED_NAMES_CHECK,
    async run(target) {
      await expectNamesRoundTrip(target, ['reserved'], ['a#b', 'a#c', 'what?', 'q?x=1']);
    },
  },
];

/** A check an implementation is known to fail, and how it fails. */
export interface KnownGap {
  reason: string;
  /** The failure the check must end with; any other outcome, a pass included, fails the test. */
  error: RegExp;
}

/** Options of describeCatalogContract. */
export interface CatalogContractOptions {
  /** Checks this implementation is known to fail, by name: kept visible, and a fix is noticed when it lands. */
  knownGaps?: Readonly<Record<string, KnownGap>>;
}

/** Registers the contract's checks as tests of one implementation; `setup` runs once per check. */
export function describeCatalogContract(
  name: string,
  setup: () => CatalogContractTarget | Promise<CatalogContractTarget>,
  options: CatalogContractOptions = {},
): void {
  const gaps = options.knownGaps ?? {};
  for (const gap of Object.keys(gaps)) {
    if (!CATALOG_CONTRACT.some((check) => check.name === gap)) throw new Error(`no contract check is named ${JSON.stringify(gap)}`);
  }
  describe(`Catalog contract: ${name}`, () => {
    for (const check of CATALOG_CONTRACT) {
      const gap = gaps[check.name];
      if (gap === undefined) it(check.name, async () => check.run(await setup()));
      else it(`${check.name} (known gap: ${gap.reason})`, async () => expect(check.run(await setup())).rejects.toThrow(gap.error));
    }
  });
}

/** Runs every check against a target and returns the names of those that fail. */
export async function failingChecks(setup: () => CatalogContractTarget | Promise<CatalogContractTarget>): Promise<string[]> {
  const failed: string[] = [];
  for (const check of CATALOG_CONTRACT) {
    try {
      await check.run(await setup());
    } catch {
      failed.push(check.name);
    }
  }
  return failed;
}
