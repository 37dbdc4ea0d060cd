/** The request hash a run stores and the differences a 409 names: normalized requests, by their request names. */
import { describe, expect, it } from 'vitest';
import { parseMigrationRequest } from '../../shared/migrate/migration-request';
import { requestDifferences, requestHash } from '../../shared/run/request-stamp';

/** The orchestration input the HTTP function builds from a body (the same fields, runId for the key). */
function inputOf(body: Record<string, unknown>): Record<string, unknown> {
  const r = parseMigrationRequest(body);
  return {
    runId: r.idempotencyKey,
    sourceSchema: r.schema,
    namespace: r.namespace,
    concurrency: r.concurrency,
    tables: r.tables,
    tableConfig: r.tableConfig,
    partitionSizeInBytes: r.partitionSizeInBytes,
    verify: r.verify,
    cdc: r.cdc,
  };
}

describe('requestHash', () => {
  it('is the same for a request with its defaults written out, in any key order, whatever the key and stamp', () => {
    const short = inputOf({ schema: 'shop', tables: ['a'], idempotencyKey: 'k1' });
    const long = inputOf({ verify: 'quick', concurrency: 2, namespace: 'shop', tables: ['a'], schema: 'shop', idempotencyKey: 'k2' });
    expect(requestHash(long)).toBe(requestHash(short));
    expect(requestHash({ ...short, requestHash: 'x', startToken: 'y' })).toBe(requestHash(short));
    expect(requestHash({ tableConfig: { a: { key: ['id'], targetName: 't' } } })).toBe(requestHash({ tableConfig: { a: { targetName: 't', key: ['id'] } } }));
  });

  it('differs for any difference in what the run does, and names those fields by their request names', () => {
    const base = inputOf({ schema: 'shop', tables: ['a', 'b'] });
    const other = inputOf({ schema: 'sales', tables: ['b', 'a'], concurrency: 3, tableConfig: { a: { excludeColumns: ['x'] } } });
    expect(requestHash(other)).not.toBe(requestHash(base));
    expect(requestDifferences(base, other)).toEqual(['concurrency', 'namespace', 'schema', 'tableConfig', 'tables']);
    expect(requestDifferences(base, { ...base, runId: 'other', startToken: 'z' })).toEqual([]);
    const handover = inputOf({ schema: 'shop', tables: ['a', 'b'], cdc: true });
    expect(requestHash(handover)).not.toBe(requestHash(base));
    expect(requestDifferences(base, handover)).toEqual(['cdc']);
    // false asks for what an absent field does: the same run.
    expect(requestHash(inputOf({ schema: 'shop', tables: ['a', 'b'], cdc: false }))).toBe(requestHash(base));
  });
});
