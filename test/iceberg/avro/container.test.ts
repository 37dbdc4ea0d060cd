import { describe, expect, it } from 'vitest';
import type { AvroSchema } from '../../../shared/iceberg/avro/avro-schema';
import { readContainer, readContainerHeader, writeContainer } from '../../../shared/iceberg/avro/container';
import { avscDecode, avscEncode } from './avsc-judge';

const SCHEMA: AvroSchema = {
  type: 'record',
  name: 'row',
  namespace: 'org.example',
  fields: [
    { name: 'id', type: 'long', 'field-id': 1 },
    { name: 'name', type: ['null', 'string'], default: null, 'field-id': 2 },
    { name: 'score', type: 'double', 'field-id': 3 },
    { name: 'ratio', type: 'float', 'field-id': 4 },
    { name: 'ok', type: 'boolean', 'field-id': 5 },
    { name: 'raw', type: 'bytes', 'field-id': 6 },
    { name: 'tag', type: { type: 'fixed', name: 'tag4', size: 4 }, 'field-id': 7 },
    { name: 'tag2', type: ['null', 'org.example.tag4'], default: null, 'field-id': 8 },
    { name: 'list', type: { type: 'array', items: 'int', 'element-id': 10 }, 'field-id': 9 },
    { name: 'attrs', type: { type: 'map', values: ['null', 'long'], 'key-id': 12, 'value-id': 13 }, 'field-id': 11 },
  ],
};

function row(i: number) {
  return {
    id: BigInt(i) * 3_000_000_000_000_000n - 9_000_000_000_000_000_000n,
    name: i % 3 === 0 ? null : `name ${i} ✓`,
    score: i / 7,
    ratio: 0.5,
    ok: i % 2 === 0,
    raw: Uint8Array.of(0, i & 0xff, 0),
    tag: Uint8Array.of(1, 2, 3, i & 0xff),
    tag2: i % 2 === 0 ? null : Uint8Array.of(9, 9, 9, 9),
    list: [i, -i | 0, 2147483647],
    attrs: new Map<string, bigint | null>([
      ['a', BigInt(i)],
      ['nothing', null],
    ]),
  };
}

const SYNC = Uint8Array.from({ length: 16 }, (_, i) => i * 11);

describe('object container files', () => {
  it.each(['null', 'deflate'] as const)('round trips records with the %s codec and avsc reads the same', async (codec) => {
    const rows = Array.from({ length: 50 }, (_, i) => row(i));
    const bytes = writeContainer(SCHEMA, rows, { codec, metadata: { 'x-user': 'värde' } });
    const ours = readContainer(bytes);
    expect(ours.records).toEqual(rows);
    expect(ours.header.codec).toBe(codec);
    expect(ours.header.metadata['x-user']).toBe('värde');
    expect(JSON.parse(ours.header.metadata['avro.schema']!)).toEqual(SCHEMA);

    const avsc = await avscDecode(bytes);
    expect(avsc.codec).toBe(codec);
    expect(avsc.meta['x-user']).toBe('värde');
    expect(JSON.parse(avsc.meta['avro.schema']!)).toEqual(SCHEMA);
    expect(avsc.records).toEqual(rows.map((r) => ({ ...r, attrs: Object.fromEntries(r.attrs) })));
  });

  it('compresses with deflate and splits blocks at the configured size', async () => {
    const rows = Array.from({ length: 500 }, (_, i) => row(i));
    const plain = writeContainer(SCHEMA, rows, { codec: 'null', syncMarker: SYNC });
    const deflated = writeContainer(SCHEMA, rows, { syncMarker: SYNC });
    expect(deflated.length).toBeLessThan(plain.length / 2);
    const small = writeContainer(SCHEMA, rows, { syncMarker: SYNC, blockSizeInBytes: 512 });
    const syncCount = countOccurrences(small, SYNC);
    expect(syncCount).toBeGreaterThan(20);
    expect(readContainer(small).records).toEqual(rows);
    expect((await avscDecode(small)).records).toHaveLength(500);
  });

  it('writes identical bytes for identical input and sync marker', () => {
    const rows = [row(1), row(2)];
    const a = writeContainer(SCHEMA, rows, { syncMarker: SYNC });
    expect(writeContainer(SCHEMA, rows, { syncMarker: SYNC })).toEqual(a);
    expect(readContainerHeader(a).syncMarker).toEqual(SYNC);
    expect(readContainerHeader(writeContainer(SCHEMA, rows)).syncMarker).not.toEqual(readContainerHeader(writeContainer(SCHEMA, rows)).syncMarker);
  });

  it('writes a readable file with no records', async () => {
    const bytes = writeContainer(SCHEMA, []);
    expect(readContainer(bytes).records).toEqual([]);
    expect((await avscDecode(bytes)).records).toEqual([]);
  });

  it('detects corruption', () => {
    const bytes = writeContainer(SCHEMA, [row(1), row(2)], { codec: 'null', syncMarker: SYNC });
    const badMagic = bytes.slice();
    badMagic[3] = 2;
    expect(() => readContainer(badMagic)).toThrow(/bad magic/);
    const badSync = bytes.slice();
    badSync[badSync.length - 1]! ^= 0xff;
    expect(() => readContainer(badSync)).toThrow(/sync marker mismatch/);
    expect(() => readContainer(bytes.subarray(0, bytes.length - 20))).toThrow(/remain/);
  });

  it('refuses values that do not fit the schema, naming the field', () => {
    expect(() => writeContainer(SCHEMA, [{ ...row(1), tag: Uint8Array.of(1) }])).toThrow(/\$\.tag: expected fixed of 4 bytes/);
    expect(() => writeContainer(SCHEMA, [{ ...row(1), list: [1, 'x'] }])).toThrow(/\$\.list\[1\]: expected int/);
    expect(() => writeContainer(SCHEMA, [{ ...row(1), id: undefined }])).toThrow(/\$\.id: expected long/);
    expect(() => writeContainer(SCHEMA, [{ ...row(1), id: 1n << 63n }])).toThrow(/\$\.id: expected long, got 9223372036854775808n/);
    expect(() => writeContainer(SCHEMA, [{ ...row(1), list: [2 ** 31] }])).toThrow(/\$\.list\[0\]: expected int, got 2147483648/);
    expect(() => writeContainer(SCHEMA, [], { metadata: { 'avro.codec': 'x' } })).toThrow(/reserved/);
  });

  it.each(['null', 'deflate'] as const)('reads a file avsc wrote (%s codec, no ids, enums and namespaces)', async (codec) => {
    const schema = {
      type: 'record',
      name: 'event',
      namespace: 'a.b',
      fields: [
        { name: 'kind', type: { type: 'enum', name: 'Kind', symbols: ['ADD', 'DROP'] } },
        { name: 'when', type: 'long' },
        { name: 'inner', type: { type: 'record', name: 'Inner', namespace: 'c', fields: [{ name: 'k', type: 'a.b.Kind' }] } },
        { name: 'again', type: ['null', 'c.Inner'] },
        { name: 'words', type: { type: 'map', values: 'string' } },
      ],
    };
    const records = [
      { kind: 'DROP', when: -(2n ** 62n), inner: { k: 'ADD' }, again: null, words: { x: 'y' } },
      { kind: 'ADD', when: 2n ** 63n - 1n, inner: { k: 'DROP' }, again: { k: 'DROP' }, words: {} },
    ];
    const bytes = await avscEncode(schema, records, codec);
    const read = readContainer(bytes);
    expect(read.header.codec).toBe(codec);
    expect(read.records).toEqual(records.map((r) => ({ ...r, words: new Map(Object.entries(r.words)) })));
  });
});

function countOccurrences(haystack: Uint8Array, needle: Uint8Array): number {
  let count = 0;
  const h = Buffer.from(haystack);
  for (let at = h.indexOf(needle); at >= 0; at = h.indexOf(needle, at + 1)) count++;
  return count;
}
