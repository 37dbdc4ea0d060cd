/**
 * Builders of PostgreSQL binary send formats for the decoder tests, written from the wire-format description
 * (src/backend/utils/adt/*send) rather than from our decoders, so the tests can disagree with them.
 */

/** int16, int32, int64 and float big-endian writers into a fresh buffer. */
export function int16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
}

export function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}

export function int64(n: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(n);
  return b;
}

export function uint16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

/** numeric_send of a decimal literal, or of 'NaN' / 'Infinity' / '-Infinity'. */
export function numericBinary(text: string): Buffer {
  const special: Record<string, number> = { NaN: 0xc000, Infinity: 0xd000, '-Infinity': 0xf000 };
  if (text in special) return Buffer.concat([int16(0), int16(0), uint16(special[text]!), int16(0)]);
  const m = /^(-?)(\d+)(?:\.(\d*))?$/.exec(text);
  if (!m) throw new Error(`not a decimal: ${text}`);
  const negative = m[1] === '-';
  const fraction = m[3] ?? '';
  const intPart = m[2]!.replace(/^0+/, '');
  const intPadded = intPart.padStart(Math.ceil(intPart.length / 4) * 4, '0');
  const fracPadded = fraction.padEnd(Math.ceil(fraction.length / 4) * 4, '0');
  const groups: number[] = [];
  for (let i = 0; i < intPadded.length; i += 4) groups.push(Number(intPadded.slice(i, i + 4)));
  for (let i = 0; i < fracPadded.length; i += 4) groups.push(Number(fracPadded.slice(i, i + 4)));
  let weight = intPadded.length / 4 - 1;
  while (groups.length > 0 && groups[0] === 0) {
    groups.shift();
    weight--;
  }
  while (groups.length > 0 && groups[groups.length - 1] === 0) groups.pop();
  if (groups.length === 0) weight = 0;
  return Buffer.concat([
    int16(groups.length),
    int16(weight),
    uint16(negative && groups.length > 0 ? 0x4000 : 0),
    int16(fraction.length),
    ...groups.map(uint16),
  ]);
}

/** array_send of a one- or more-dimensional array of already-encoded elements (null = SQL NULL). */
export function arrayBinary(elementOid: number, dims: Array<{ size: number; lower: number }>, elements: Array<Buffer | null>): Buffer {
  const parts = [int32(dims.length), int32(elements.some((e) => e === null) ? 1 : 0), int32(elementOid)];
  for (const d of dims) parts.push(int32(d.size), int32(d.lower));
  for (const e of elements) parts.push(e === null ? int32(-1) : Buffer.concat([int32(e.length), e]));
  return Buffer.concat(parts);
}

/** record_send of attributes given as (type oid, encoded value or null). */
export function recordBinary(attributes: Array<[number, Buffer | null]>): Buffer {
  const parts = [int32(attributes.length)];
  for (const [oid, value] of attributes) parts.push(int32(oid), value === null ? int32(-1) : Buffer.concat([int32(value.length), value]));
  return Buffer.concat(parts);
}

/** interval_send: µs, days, months. */
export function intervalBinary(micros: bigint, days: number, months: number): Buffer {
  return Buffer.concat([int64(micros), int32(days), int32(months)]);
}

/** A whole binary COPY stream of rows of encoded fields (null = SQL NULL). */
export function copyStream(rows: Array<Array<Buffer | null>>): Buffer {
  const parts = [Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), int32(0), int32(0)];
  for (const row of rows) {
    parts.push(int16(row.length));
    for (const field of row) parts.push(field === null ? int32(-1) : Buffer.concat([int32(field.length), field]));
  }
  parts.push(int16(-1));
  return Buffer.concat(parts);
}

/** Microseconds between 1970 and 2000: PostgreSQL's epoch in Iceberg's terms. */
export const EPOCH_SHIFT_MICROS = 946_684_800_000_000n;
