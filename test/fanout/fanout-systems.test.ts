import { describe, expect, it } from 'vitest';
import { fanoutSystemsOf } from '../../shared/fanout-run/fanout-systems';

const STATE = { ICEBRIDGE_STATE_DATABASE_URL: 'postgres://u@h/db' };
const WEAVIATE = { ICEBRIDGE_WEAVIATE_URL: 'http://127.0.0.1:1' };
const CLICKHOUSE = { ICEBRIDGE_CLICKHOUSE_URL: 'http://127.0.0.1:8123' };

describe('fanoutSystemsOf', () => {
  it('takes every configured system by default, in a fixed order', () => {
    expect(fanoutSystemsOf({})).toEqual([]);
    expect(fanoutSystemsOf({ ...WEAVIATE, ...STATE })).toEqual(['event-store', 'weaviate']);
    expect(fanoutSystemsOf({ ...WEAVIATE, ...STATE, ...CLICKHOUSE })).toEqual(['event-store', 'clickhouse', 'weaviate']);
  });

  it('takes the systems named, refusing an unknown one and one not configured', () => {
    expect(fanoutSystemsOf({ ...STATE, ...CLICKHOUSE, ICEBRIDGE_FANOUT_SYSTEMS: 'clickhouse' })).toEqual(['clickhouse']);
    expect(() => fanoutSystemsOf({ ...STATE, ICEBRIDGE_FANOUT_SYSTEMS: 'event-store,kafka' })).toThrow(
      /"kafka" is not one of event-store, clickhouse, weaviate/,
    );
    expect(() => fanoutSystemsOf({ ...STATE, ICEBRIDGE_FANOUT_SYSTEMS: 'weaviate' })).toThrow(/names weaviate, which is not configured/);
  });
});
