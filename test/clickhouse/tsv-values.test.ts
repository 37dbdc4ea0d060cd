/** TabSeparated values without a server: what the sink writes reads back the same, and ClickHouse's escapes decode. */
import { describe, expect, it } from 'vitest';
import { planTable } from '../../shared/clickhouse/column-types';
import { type LinePart, decodeField, encodeField, lineBytes, splitFields, unescapeField } from '../../shared/clickhouse/tsv-values';
import type { Value } from '../../shared/iceberg/spec/values';
import { EVERY_TYPE, HOSTILE_ROWS } from './fixtures';

describe('TabSeparated values', () => {
  it('write and read back every hostile value of every type', () => {
    const plan = planTable(EVERY_TYPE);
    for (const row of HOSTILE_ROWS) {
      const fields: LinePart[][] = plan.columns.map((column, i) => {
        const out: LinePart[] = [];
        encodeField(row[i]!, column.source.type, true, { table: EVERY_TYPE, column: column.source.name, key: [row[0]!] }, out);
        return out;
      });
      const line = lineBytes(fields);
      expect(line.at(-1)).toBe(0x0a);
      const back = splitFields(line.subarray(0, -1)).map((field, i) => decodeField(field, plan.columns[i]!.source.type));
      back.forEach((value: Value, i) => {
        const expected = row[i]!;
        if (typeof expected === 'number') expect(Object.is(value, expected), plan.columns[i]!.source.name).toBe(true);
        else expect(value, plan.columns[i]!.source.name).toEqual(expected);
      });
    }
  });

  it('decodes the escapes ClickHouse writes, \\N only as a whole field', () => {
    expect(unescapeField(Buffer.from("a\\tb\\nc\\\\d\\0e\\x41\\'")).toString('latin1')).toBe("a\tb\nc\\d\0eA'");
    expect(decodeField(Buffer.from('\\N'), 'string')).toBeNull();
    expect(decodeField(Buffer.from('\\\\N'), 'string')).toBe('\\N');
    expect(decodeField(Buffer.from("['a\\'b',NULL,'']"), { type: 'list', 'element-id': 1, element: 'string', 'element-required': false })).toEqual([
      "a'b",
      null,
      '',
    ]);
    expect(decodeField(Buffer.from('-0'), 'double')).toBe(-0);
    expect(Object.is(decodeField(Buffer.from('-0'), 'double'), -0)).toBe(true);
  });

  it('refuses a NULL key, a fixed of the wrong length and a decimal wider than its column', () => {
    const context = { table: EVERY_TYPE, column: 'c', key: [7n] };
    expect(() => encodeField(null, 'long', false, context, [])).toThrow(
      'clickhouse: table public.every_type column "c" key 7: a NULL in a column that cannot hold one',
    );
    expect(() => encodeField(new Uint8Array(2), 'fixed[3]', true, context, [])).toThrow(/2 bytes in a fixed\[3\] column/);
    expect(() => encodeField(12345n, 'decimal(4, 2)', true, context, [])).toThrow(/not a decimal\(4, 2\) value ClickHouse can hold exactly: 12345n/);
    expect(() => encodeField(2 ** 31, 'int', true, context, [])).toThrow(/not a int value/);
  });
});
