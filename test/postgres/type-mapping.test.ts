import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../shared/errors';
import type { SourceColumn, SourceTable, SourceType } from '../../shared/postgres/source-table';
import { mapTable, numericTypmod } from '../../shared/postgres/type-mapping';

const base = (oid: number, sql: string, typmod = -1): SourceType => ({ kind: 'base', oid, schema: 'pg_catalog', name: sql, sql, typmod, typtype: 'b' });
const array = (element: SourceType): SourceType => ({
  kind: 'array',
  oid: 1,
  schema: 'pg_catalog',
  name: `_${element.name}`,
  sql: `${element.sql}[]`,
  element,
});
const numeric = (precision?: number, scale = 0): SourceType =>
  base(1700, precision === undefined ? 'numeric' : `numeric(${precision},${scale})`, precision === undefined ? -1 : ((precision << 16) | (scale & 0x7ff)) + 4);
const INT4 = base(23, 'integer');
const TEXT = base(25, 'text');
const FLOAT8 = base(701, 'double precision');

function table(columns: Array<[string, SourceType, boolean?]>, key: string[] = []): SourceTable {
  const cols: SourceColumn[] = columns.map(([name, type, notNull], i) => ({ name, attnum: i + 1, notNull: notNull ?? false, type }));
  return {
    oid: 1,
    schema: 'public',
    name: 't',
    kind: 'table',
    leaves: [],
    columns: cols,
    key: key.length === 0 ? { kind: 'none', columns: [] } : { kind: 'primary-key', name: 't_pkey', columns: key },
    foreignKeys: [],
    stats: { reltuples: 0, relpages: 0, tableBytes: 0, totalBytes: 0 },
  };
}

describe('mapTable', () => {
  it('assigns ids 1..n to columns in order and nested ids after them; required is NOT NULL', () => {
    const address: SourceType = {
      kind: 'composite',
      oid: 2,
      schema: 'public',
      name: 'address',
      sql: 'public.address',
      attributes: [
        { name: 'street', type: TEXT },
        { name: 'zips', type: array(INT4) },
      ],
    };
    const { schema } = mapTable(
      table(
        [
          ['id', INT4, true],
          ['tags', array(TEXT)],
          ['addr', address],
          ['n', numeric(5, 2), true],
        ],
        ['id'],
      ),
    );
    expect(schema.fields.map((f) => [f.id, f.name, f.required])).toEqual([
      [1, 'id', true],
      [2, 'tags', false],
      [3, 'addr', false],
      [4, 'n', true],
    ]);
    expect(schema.fields[1]!.type).toEqual({ type: 'list', 'element-id': 5, element: 'string', 'element-required': false });
    expect(schema.fields[2]!.type).toEqual({
      type: 'struct',
      fields: [
        { id: 6, name: 'street', required: false, type: 'string' },
        { id: 7, name: 'zips', required: false, type: { type: 'list', 'element-id': 8, element: 'int', 'element-required': false } },
      ],
    });
    expect(schema.fields[3]!.type).toBe('decimal(5, 2)');
    expect(schema['identifier-field-ids']).toEqual([1]);
  });

  it('maps numerics exactly: decimal up to precision 38, exact text beyond or without a typmod', () => {
    const { schema, columns } = mapTable(
      table([
        ['a', numeric(38, 10)],
        ['b', numeric(39, 2)],
        ['c', numeric()],
        ['d', numeric(2, -3)],
        ['e', numeric(3, 5)],
      ]),
    );
    expect(schema.fields.map((f) => f.type)).toEqual(['decimal(38, 10)', 'string', 'string', 'decimal(5, 0)', 'decimal(5, 5)']);
    expect(columns.map((c) => c.decode.kind)).toEqual(['decimal', 'numeric-text', 'numeric-text', 'decimal', 'decimal']);
  });

  it('maps wide numerics to checked decimal(38, s) when configured', () => {
    const { schema, columns } = mapTable(
      table([
        ['b', numeric(39, 2)],
        ['c', numeric()],
      ]),
      { wideNumeric: { as: 'decimal', unconstrainedScale: 6 } },
    );
    expect(schema.fields.map((f) => f.type)).toEqual(['decimal(38, 2)', 'decimal(38, 6)']);
    expect(columns.every((c) => c.decode.kind === 'decimal' && c.decode.checked)).toBe(true);
    expect(() => mapTable(table([['c', numeric()]]), { wideNumeric: { as: 'decimal', unconstrainedScale: 40 } })).toThrow(ValidationError);
  });

  it('decodes numeric typmods, negative scales included', () => {
    expect(numericTypmod(((5 << 16) | 2) + 4)).toEqual({ precision: 5, scale: 2 });
    expect(numericTypmod(((2 << 16) | (-3 & 0x7ff)) + 4)).toEqual({ precision: 2, scale: -3 });
    expect(numericTypmod(-1)).toBeUndefined();
  });

  it('reads types without a binary decoder as PostgreSQL text, per column', () => {
    const inet = base(869, 'inet');
    const withInet: SourceType = {
      kind: 'composite',
      oid: 3,
      schema: 'public',
      name: 'hostinfo',
      sql: 'public.hostinfo',
      attributes: [{ name: 'ip', type: inet }],
    };
    const domainOverTsvector: SourceType = { kind: 'domain', oid: 4, schema: 'public', name: 'doc', sql: 'public.doc', base: base(3614, 'tsvector') };
    const { schema, columns } = mapTable(
      table([
        ['fulltext', base(3614, 'tsvector')],
        ['ips', array(inet)],
        ['host', withInet],
        ['tz', base(1266, 'time with time zone')],
        ['iv', array(base(1186, 'interval'))],
        ['doc', domainOverTsvector],
        ['a"b', base(790, 'money')],
      ]),
    );
    expect(columns.map((c) => [c.transfer, c.selectSql])).toEqual([
      ['text', '"fulltext"::text'],
      ['text', '"ips"::text[]'],
      ['text', '"host"::text'],
      ['text', '"tz"::text'],
      ['binary', '"iv"'],
      ['text', '"doc"::text'],
      ['text', '"a""b"::text'],
    ]);
    expect(schema.fields.map((f) => f.type)).toEqual([
      'string',
      { type: 'list', 'element-id': 8, element: 'string', 'element-required': false },
      'string',
      'string',
      { type: 'list', 'element-id': 9, element: 'string', 'element-required': false },
      'string',
      'string',
    ]);
  });

  it('maps domains as their base type and keeps the domain name in the doc', () => {
    const year: SourceType = { kind: 'domain', oid: 5, schema: 'public', name: 'year', sql: 'public.year', base: INT4 };
    const rating: SourceType = { kind: 'enum', oid: 6, schema: 'public', name: 'mpaa_rating', sql: 'public.mpaa_rating', labels: ['G', 'PG'] };
    const { schema, columns } = mapTable(
      table([
        ['release_year', year],
        ['rating', rating],
        ['name', base(1042, 'character(20)', 24)],
      ]),
    );
    expect(schema.fields.map((f) => [f.type, f.doc])).toEqual([
      ['int', 'PostgreSQL public.year (domain over integer)'],
      ['string', 'PostgreSQL public.mpaa_rating'],
      ['string', 'PostgreSQL character(20)'],
    ]);
    expect(columns.map((c) => c.transfer)).toEqual(['binary', 'binary', 'binary']);
  });

  it('maps every scalar of the type table', () => {
    const types: Array<[number, string, string]> = [
      [16, 'boolean', 'boolean'],
      [21, 'smallint', 'int'],
      [23, 'integer', 'int'],
      [20, 'bigint', 'long'],
      [26, 'oid', 'long'],
      [700, 'real', 'float'],
      [701, 'double precision', 'double'],
      [25, 'text', 'string'],
      [1043, 'character varying(3)', 'string'],
      [19, 'name', 'string'],
      [2950, 'uuid', 'uuid'],
      [1082, 'date', 'date'],
      [1114, 'timestamp without time zone', 'timestamp'],
      [1184, 'timestamp with time zone', 'timestamptz'],
      [1083, 'time without time zone', 'time'],
      [1186, 'interval', 'string'],
      [114, 'json', 'string'],
      [3802, 'jsonb', 'string'],
      [17, 'bytea', 'binary'],
      [142, 'xml', 'string'],
      [3904, 'int4range', 'string'],
      [1560, 'bit(3)', 'string'],
      [18, '"char"', 'string'],
    ];
    const { schema } = mapTable(table(types.map(([oid, sql], i) => [`c${i}`, base(oid, sql)])));
    expect(schema.fields.map((f) => f.type)).toEqual(types.map(([, , iceberg]) => iceberg));
  });

  it('excludes columns by name and refuses unknown ones with the list of columns', () => {
    const source = table(
      [
        ['id', INT4, true],
        ['secret', TEXT],
        ['Note', TEXT],
      ],
      ['id'],
    );
    const { schema, columns } = mapTable(source, { excludedColumns: ['secret'] });
    expect(schema.fields.map((f) => [f.id, f.name])).toEqual([
      [1, 'id'],
      [2, 'Note'],
    ]);
    expect(columns.map((c) => c.fieldId)).toEqual([1, 2]);
    expect(() => mapTable(source, { excludedColumns: ['nope'] })).toThrow(
      'cannot exclude column nope of public.t: no such column; columns: id, secret, "Note"',
    );
    expect(() => mapTable(source, { excludedColumns: ['id', 'secret', 'Note'] })).toThrow(/no column/);
  });

  it('leaves identifier fields out when a key column is optional, floating point or excluded', () => {
    expect(mapTable(table([['x', FLOAT8, true]], ['x'])).schema['identifier-field-ids']).toBeUndefined();
    expect(
      mapTable(
        table(
          [
            ['a', INT4, true],
            ['b', INT4, true],
          ],
          ['a', 'b'],
        ),
        { excludedColumns: ['b'] },
      ).schema['identifier-field-ids'],
    ).toBeUndefined();
    expect(
      mapTable(
        table(
          [
            ['a', INT4, true],
            ['b', TEXT, true],
          ],
          ['b', 'a'],
        ),
      ).schema['identifier-field-ids'],
    ).toEqual([2, 1]);
  });
});
