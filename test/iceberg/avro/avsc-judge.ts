/**
 * avsc as an independent Avro implementation: it reads the files we write and writes files we must read.
 * Longs go through a bigint type so 64-bit values are compared exactly.
 */
import * as avsc from 'avsc';

/** avsc long type that decodes to and encodes from bigint. */
export const BIG_LONG = avsc.types.LongType.__with({
  fromBuffer: (buf: Buffer) => buf.readBigInt64LE(),
  toBuffer: (n: bigint | number) => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(BigInt(n));
    return buf;
  },
  fromJSON: (v: unknown) => BigInt(v as string),
  toJSON: (n: bigint) => Number(n),
  isValid: (n: unknown) => typeof n === 'bigint',
  compare: (a: bigint, b: bigint) => (a === b ? 0 : a < b ? -1 : 1),
});

/** An avsc type for a schema, with bigint longs (logical long types included). */
export function avscType(schema: unknown): avsc.Type {
  return avsc.Type.forSchema(schema as avsc.Schema, {
    typeHook: (s: unknown) => {
      if (s === 'long') return BIG_LONG;
      if (typeof s === 'object' && s !== null && !Array.isArray(s) && (s as { type?: unknown }).type === 'long') return BIG_LONG;
      return undefined;
    },
  });
}

/** What avsc saw in a container file. */
export interface AvscFile {
  codec: string;
  /** Header metadata decoded as UTF-8. */
  meta: Record<string, string>;
  sync: Uint8Array;
  records: unknown[];
}

/** Decodes a whole container file with avsc's block decoder. */
export function avscDecode(bytes: Uint8Array): Promise<AvscFile> {
  return new Promise((resolve, reject) => {
    const decoder = new avsc.streams.BlockDecoder({ parseHook: (schema) => avscType(schema) });
    const records: unknown[] = [];
    let codec = '';
    let meta: Record<string, string> = {};
    let sync = new Uint8Array();
    decoder.on('metadata', (_type: avsc.Type, c: string, header: { meta: Record<string, Buffer>; sync: Buffer }) => {
      codec = c;
      meta = Object.fromEntries(Object.entries(header.meta).map(([k, v]) => [k, v.toString('utf8')]));
      sync = new Uint8Array(header.sync);
    });
    decoder.on('data', (record: unknown) => records.push(plain(record)));
    decoder.on('error', reject);
    decoder.on('end', () => resolve({ codec, meta, sync, records }));
    decoder.end(Buffer.from(bytes));
  });
}

/** Encodes records into a container file with avsc's block encoder (it writes no field ids). */
export function avscEncode(schema: unknown, records: unknown[], codec: 'null' | 'deflate'): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const encoder = new avsc.streams.BlockEncoder(avscType(schema), { codec });
    const chunks: Buffer[] = [];
    encoder.on('data', (chunk: Buffer) => chunks.push(chunk));
    encoder.on('error', reject);
    encoder.on('end', () => resolve(new Uint8Array(Buffer.concat(chunks))));
    for (const record of records) encoder.write(record);
    encoder.end();
  });
}

/** avsc values as plain data: record instances to objects, Buffers to Uint8Array. */
export function plain(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return new Uint8Array(value);
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

/** Every place in a schema JSON that lacks its Iceberg id, as paths; empty when all ids are present. */
export function missingIds(schema: unknown, path = '$'): string[] {
  if (typeof schema === 'string') return [];
  if (Array.isArray(schema)) return schema.flatMap((branch, i) => missingIds(branch, `${path}|${i}`));
  const node = schema as Record<string, unknown>;
  const out: string[] = [];
  if (node.type === 'record') {
    for (const field of node.fields as Record<string, unknown>[]) {
      const where = `${path}.${String(field.name)}`;
      if (!Number.isInteger(field['field-id'])) out.push(where);
      out.push(...missingIds(field.type, where));
    }
  } else if (node.type === 'array') {
    // A map stored as an array carries its ids on the key and value fields of the entry record instead.
    if (node.logicalType !== 'map' && !Number.isInteger(node['element-id'])) out.push(`${path}[]`);
    out.push(...missingIds(node.items, `${path}[]`));
  } else if (node.type === 'map') {
    if (!Number.isInteger(node['key-id']) || !Number.isInteger(node['value-id'])) out.push(`${path}{}`);
    out.push(...missingIds(node.values, `${path}{}`));
  }
  return out;
}

/** All ids in a schema JSON (field, element, key and value ids). */
export function allIds(schema: unknown): number[] {
  const out: number[] = [];
  const visit = (node: unknown): void => {
    if (typeof node !== 'object' || node === null) return;
    if (Array.isArray(node)) return node.forEach(visit);
    const n = node as Record<string, unknown>;
    for (const key of ['field-id', 'element-id', 'key-id', 'value-id']) if (typeof n[key] === 'number') out.push(n[key] as number);
    if (Array.isArray(n.fields)) n.fields.forEach(visit);
    visit(n.type);
    visit(n.items);
    visit(n.values);
  };
  visit(schema);
  return out.sort((a, b) => a - b);
}
