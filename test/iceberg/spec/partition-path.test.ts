import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../shared/errors';
import { javaUrlEncode, partitionPath } from '../../../shared/iceberg/spec/partition-path';
import type { PartitionSpec } from '../../../shared/iceberg/spec/partition-spec';
import { partitionType, partitionValues } from '../../../shared/iceberg/spec/partition-type';
import { createSchema } from '../../../shared/iceberg/spec/schema';

const schema = createSchema([
  { id: 1, name: 'customer', required: false, type: 'long' },
  { id: 2, name: 'created_at', required: false, type: 'timestamptz' },
  { id: 3, name: 'name', required: false, type: 'string' },
  { id: 4, name: 'blob', required: false, type: 'binary' },
]);

const spec: PartitionSpec = {
  'spec-id': 0,
  fields: [
    { 'source-id': 2, 'field-id': 1000, name: 'created_at_day', transform: 'day' },
    { 'source-id': 1, 'field-id': 1001, name: 'customer_bucket', transform: 'bucket[16]' },
  ],
};

describe('javaUrlEncode', () => {
  it('keeps A-Za-z0-9.-*_ , turns spaces into +, percent-encodes the rest in upper-case UTF-8', () => {
    expect(javaUrlEncode('Az09.-*_')).toBe('Az09.-*_');
    expect(javaUrlEncode('a b/c=d')).toBe('a+b%2Fc%3Dd');
    expect(javaUrlEncode('~+%&?#:')).toBe('%7E%2B%25%26%3F%23%3A');
    expect(javaUrlEncode('é')).toBe('%C3%A9');
    expect(javaUrlEncode('日本')).toBe('%E6%97%A5%E6%9C%AC');
    expect(javaUrlEncode('😀')).toBe('%F0%9F%98%80');
    expect(javaUrlEncode('\u0000\n')).toBe('%00%0A');
  });

  it('replaces an unpaired surrogate with ? as Java does', () => {
    expect(javaUrlEncode('a\ud800b')).toBe('a%3Fb');
    expect(javaUrlEncode('\udc00')).toBe('%3F');
  });
});

describe('partitionPath', () => {
  it('renders day and bucket fields', () => {
    const type = partitionType(spec, schema);
    expect(partitionPath(spec, type, [17897, 3])).toBe('created_at_day=2019-01-01/customer_bucket=3');
    const row = [34n, BigInt(Date.UTC(2019, 0, 1, 23, 59)) * 1000n, null, null];
    const bucket = partitionValues(spec, schema, row)[1];
    expect(partitionPath(spec, type, partitionValues(spec, schema, row))).toBe(`created_at_day=2019-01-01/customer_bucket=${bucket as number}`);
  });

  it('renders null values as "null"', () => {
    expect(partitionPath(spec, partitionType(spec, schema), [null, null])).toBe('created_at_day=null/customer_bucket=null');
  });

  it('encodes names and values with spaces, slashes, equals signs and unicode', () => {
    const s: PartitionSpec = {
      'spec-id': 1,
      fields: [
        { 'source-id': 3, 'field-id': 1000, name: 'name', transform: 'identity' },
        { 'source-id': 3, 'field-id': 1001, name: 'name prefix/2', transform: 'truncate[2]' },
      ],
    };
    const type = partitionType(s, schema);
    expect(partitionPath(s, type, ['a b/c=d é😀', 'a '])).toBe('name=a+b%2Fc%3Dd+%C3%A9%F0%9F%98%80/name+prefix%2F2=a+');
  });

  it('renders identity timestamps as ISO text and binary as base64, both encoded', () => {
    const s: PartitionSpec = {
      'spec-id': 2,
      fields: [
        { 'source-id': 2, 'field-id': 1000, name: 'created_at', transform: 'identity' },
        { 'source-id': 4, 'field-id': 1001, name: 'blob', transform: 'identity' },
        { 'source-id': 2, 'field-id': 1002, name: 'created_at_hour', transform: 'hour' },
      ],
    };
    const ts = BigInt(Date.UTC(2017, 10, 16, 22, 31, 8)) * 1000n + 1n;
    const path = partitionPath(s, partitionType(s, schema), [ts, Uint8Array.of(0xfb, 0xff), 420034]);
    expect(path).toBe('created_at=2017-11-16T22%3A31%3A08.000001%2B00%3A00/blob=%2B%2F8%3D/created_at_hour=2017-12-01-10');
  });

  it('refuses a tuple that does not fit the spec', () => {
    expect(() => partitionPath(spec, partitionType(spec, schema), [1])).toThrow(ValidationError);
  });
});
