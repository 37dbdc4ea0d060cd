/**
 * The partial-failure drill: three scratch tables are migrated in one run and one of them fails, deterministically,
 * on a `timestamp 'infinity'` the copy refuses (Iceberg timestamps have no infinity and the run maps none). Proven:
 * the run reports exactly that table failed, naming its table, column and value; the other two are committed and
 * verify exact; the emergency flag rollback, on a scratch flag store whose reads had been shifted to Iceberg, puts
 * every flag back to PostgreSQL; and once the bad row is fixed, migrating the failed table again commits it exact.
 */
import * as path from 'node:path';
import { FlagAuditTrail } from '../flags/audit-trail';
import { ICEBRIDGE_FLAGS, percentageFlag, switchFlag } from '../flags/feature-flag';
import { type RollbackAlert, isPostgresState, rollbackToPostgres, setFlag } from '../flags/flag-changes';
import { flagDisplayName } from '../flags/flag-store';
import { LocalFlagStore } from '../flags/local-flag-store';
import { LocalFileIO } from '../iceberg/io';
import { type DrillEnvironment, type DrillOptions, SCRATCH_COLUMNS, migrateScratch, scratchRowsSql, verifyExact } from './drill-environment';
import { type DrillSteps, check } from './drill-steps';
import { type Scratch, inScratch } from './scratch';

const GOOD_TABLES = ['customers', 'products'];
const BAD_TABLE = 'events';
const BAD_COLUMN = 'happened_at';

/** Runs the drill's steps in the scratch; throws DrillStepFailed at the first that fails. */
export async function partialFailureDrill(drill: DrillEnvironment, scratch: Scratch, steps: DrillSteps, options: DrillOptions = {}): Promise<void> {
  const store = new LocalFlagStore(path.join(drill.tempDir, 'flags.json'));
  const audit = new FlagAuditTrail(new LocalFileIO(), path.join(drill.tempDir, 'flag-audit'));
  const author = { actor: drill.actor, reason: 'partial-failure drill' };

  await steps.run('create three scratch tables, one holding a value the copy refuses', () =>
    inScratch(drill.env, scratch, async (client, t) => {
      for (const table of GOOD_TABLES) {
        await client.query(`CREATE TABLE ${t(table)} (${SCRATCH_COLUMNS})`);
        await client.query(scratchRowsSql(t(table), 1, 300));
      }
      await client.query(`CREATE TABLE ${t(BAD_TABLE)} (id int PRIMARY KEY, ${BAD_COLUMN} timestamp NOT NULL, note text)`);
      await client.query(
        `INSERT INTO ${t(BAD_TABLE)} SELECT g, timestamp '2026-01-01' + g * interval '1 minute', 'event ' || g FROM generate_series(1, 200) g`,
      );
      await client.query(`UPDATE ${t(BAD_TABLE)} SET ${BAD_COLUMN} = 'infinity' WHERE id = 77`);
    }),
  );
  await steps.run(
    'shift reads to Iceberg on the scratch flag store',
    async () => {
      await setFlag(store, audit, { name: ICEBRIDGE_FLAGS.useIcebergStorage, flag: switchFlag(ICEBRIDGE_FLAGS.useIcebergStorage, true) }, author);
      await setFlag(store, audit, { name: ICEBRIDGE_FLAGS.icebergReadPercentage, flag: percentageFlag(ICEBRIDGE_FLAGS.icebergReadPercentage, 100) }, author);
      for (const table of GOOD_TABLES) {
        const label = `${scratch.name}.${table}`;
        await setFlag(
          store,
          audit,
          { name: ICEBRIDGE_FLAGS.icebergReadPercentage, label, flag: percentageFlag(ICEBRIDGE_FLAGS.icebergReadPercentage, 100) },
          author,
        );
      }
      const flags = await store.list();
      check(
        flags.every((f) => !isPostgresState(f.flag)),
        'a flag set to Iceberg reads as PostgreSQL',
      );
      return `${flags.length} flags on Iceberg in ${store.description}`;
    },
    (d) => d,
  );
  const report = await steps.run(
    'migrate the three tables: exactly one fails, named with its column and value',
    async () => {
      const run = await migrateScratch(drill, scratch, [...GOOD_TABLES, BAD_TABLE], true);
      const failed = run.details.filter((d) => d.status === 'failed');
      check(
        run.tables.failed === 1 && failed.length === 1,
        `expected one failed table, the run reports ${run.tables.failed}: ${failed.map((f) => f.table).join(', ')}`,
      );
      const reason = failed[0]!.reason ?? '';
      check(failed[0]!.table.endsWith(BAD_TABLE), `the failed table is ${failed[0]!.table}, expected ${BAD_TABLE}`);
      for (const part of [BAD_TABLE, BAD_COLUMN, 'infinity']) check(reason.includes(part), `the failure does not name ${part}: ${reason}`);
      return { run, reason };
    },
    (r) => r.reason,
  );
  await steps.run(
    'the other two tables are committed and verify exact (full level)',
    async () => {
      for (const table of GOOD_TABLES) {
        const detail = report.run.details.find((d) => d.table.endsWith(table));
        check(detail?.status === 'committed', `${table} is ${detail?.status ?? 'missing from the report'}`);
        await verifyExact(drill, scratch, table, table, detail.snapshotId);
      }
      return GOOD_TABLES.join(', ');
    },
    (d) => d,
  );
  await steps.run(
    'the emergency flag rollback puts every flag back to PostgreSQL',
    async () => {
      const alerts: RollbackAlert[] = [];
      if (!options.sabotageRecovery) {
        const result = await rollbackToPostgres(store, audit, author, (a) => void alerts.push(a));
        check(result.audited, 'the flag rollback could not write its audit trail');
      }
      const flags = await store.list();
      const left = flags.filter((f) => !isPostgresState(f.flag)).map((f) => flagDisplayName(f.name, f.label));
      check(left.length === 0, `still sending reads to Iceberg: ${left.join(', ')}`);
      const entries = (await audit.history()).filter((e) => e.action === 'rollback');
      check(entries.length === flags.length, `${entries.length} rollback audit entries for ${flags.length} flags`);
      return `${flags.length} flags back, ${alerts.length} alert raised`;
    },
    (d) => d,
  );
  await steps.run(
    'fix the bad row and migrate the failed table again: committed and exact',
    async () => {
      await inScratch(drill.env, scratch, (client, t) => client.query(`UPDATE ${t(BAD_TABLE)} SET ${BAD_COLUMN} = timestamp '2026-06-01' WHERE id = 77`));
      const run = await migrateScratch(drill, scratch, [BAD_TABLE]);
      return verifyExact(drill, scratch, BAD_TABLE, BAD_TABLE, run.details[0]?.snapshotId);
    },
    (d) => d,
  );
}
