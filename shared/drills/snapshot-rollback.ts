/**
 * The snapshot-rollback drill: a scratch table is migrated (the good snapshot), a bad change reaches Iceberg (rows
 * changed and deleted in PostgreSQL, migrated again), and the Iceberg table is rolled back to the good snapshot with
 * rollbackTable. Proven: the current snapshot is the good one, the table is exact at the full level against a copy
 * of the good rows kept before the bad change, and the rollback's audit entry exists.
 */
import { TableAuditTrail } from '../restore/table-audit';
import { rollbackTable } from '../restore/table-rollback';
import { type DrillEnvironment, type DrillOptions, SCRATCH_COLUMNS, currentSnapshot, migrateScratch, scratchRowsSql, verifyExact } from './drill-environment';
import { type DrillSteps, check } from './drill-steps';
import { type Scratch, inScratch } from './scratch';

/** Runs the drill's steps in the scratch; throws DrillStepFailed at the first that fails. */
export async function snapshotRollbackDrill(drill: DrillEnvironment, scratch: Scratch, steps: DrillSteps, options: DrillOptions = {}): Promise<void> {
  const id = { namespace: [scratch.name], name: 'orders' };
  await steps.run('create the scratch table and a copy of its good rows', () =>
    inScratch(drill.env, scratch, async (client, t) => {
      await client.query(`CREATE TABLE ${t('orders')} (${SCRATCH_COLUMNS})`);
      await client.query(scratchRowsSql(t('orders'), 1, 500));
      await client.query(`CREATE TABLE ${t('orders_good')} (LIKE ${t('orders')} INCLUDING ALL)`);
      await client.query(`INSERT INTO ${t('orders_good')} TABLE ${t('orders')}`);
    }),
  );
  const good = await steps.run(
    'migrate: the good snapshot',
    async () => {
      await migrateScratch(drill, scratch, ['orders']);
      return currentSnapshot(drill, scratch, 'orders');
    },
    (s) => `snapshot ${s}`,
  );
  const bad = await steps.run(
    'a bad change reaches Iceberg',
    async () => {
      await inScratch(drill.env, scratch, async (client, t) => {
        await client.query(`UPDATE ${t('orders')} SET amount = -amount, label = 'damaged' WHERE id % 7 = 0`);
        await client.query(`DELETE FROM ${t('orders')} WHERE id > 450`);
      });
      await migrateScratch(drill, scratch, ['orders']);
      const snapshot = await currentSnapshot(drill, scratch, 'orders');
      check(snapshot !== good, `the second migration left snapshot ${good} current`);
      return snapshot;
    },
    (s) => `snapshot ${s}`,
  );
  await steps.run(
    'roll the Iceberg table back to the good snapshot',
    async () => {
      if (options.sabotageRecovery) return 'skipped (sabotaged)';
      const result = await rollbackTable(
        { catalog: drill.env.catalog, connectSource: () => drill.env.connectSource() },
        { table: id, to: { snapshotId: BigInt(good) }, reason: 'rollback drill', actor: drill.actor },
      );
      check(
        result.changed && result.before === bad && result.after === good,
        `rollback went from ${result.before} to ${result.after}, expected ${bad} to ${good}`,
      );
      return `from ${bad} to ${good}`;
    },
    (d) => d,
  );
  await steps.run('the current snapshot is the good one', async () => {
    const now = await currentSnapshot(drill, scratch, 'orders');
    check(now === good, `current snapshot is ${now}, the good one is ${good}`);
  });
  await steps.run(
    'the table verifies exact against the good rows (full level)',
    () => verifyExact(drill, scratch, 'orders', 'orders_good'),
    (d) => d,
  );
  await steps.run(
    'the rollback is in the audit trail',
    async () => {
      const trail = new TableAuditTrail(drill.env.catalog, id);
      const entries = await trail.history();
      const found = entries.find((e) => e.action === 'rollback' && e.before === bad && e.after === good && e.actor === drill.actor);
      check(found !== undefined, `no audit entry of the rollback from ${bad} to ${good} in ${trail.location}`);
      return `${found.at} by ${found.actor}`;
    },
    (d) => d,
  );
}
