/**
 * A migration finds each table's verification result by the table's target name, so the migration's outcome, a
 * verified table and a table that could not be verified must all write that name the same way.
 */
import { describe, expect, it } from 'vitest';
import { formatIdentifier } from '../../shared/iceberg/catalog/table-identifier';
import { outcomeTarget } from '../../shared/migrate/migration-progress';
import { failedTableVerification } from '../../shared/verify/status/verification-progress';

describe("a table's target name", () => {
  it.each([
    { namespace: ['lake'], name: 'orders' },
    { namespace: ['lake', 'sales'], name: 'Order Lines' },
    { namespace: ['public'], name: 'order-lines' },
    { namespace: ['public'], name: '2024' },
  ])('is written alike by the migration and by its verification: $name', (target) => {
    const verified = formatIdentifier(target); // how verifyTable names a verified table's target
    expect(outcomeTarget(target)).toBe(verified);
    expect(failedTableVerification({ source: { schema: 'public', name: target.name }, target }, 'quick', 'x').target).toBe(verified);
  });
});
