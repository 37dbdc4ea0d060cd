/**
 * Thrift compact protocol (thrift/doc/specs/thrift-compact-protocol.md), driven by small struct descriptors so
 * one encoder and one decoder serve every parquet.thrift struct. Unknown fields are skipped on read, which is how
 * readers stay compatible with files written against newer parquet.thrift revisions.
 */
import { ByteBuffer } from './byte-buffer';

/** Wire type of a field or list element. */
export type ThriftType = 'bool' | 'i8' | 'i16' | 'i32' | 'i64' | 'double' | 'binary' | 'string' | ThriftStruct | ThriftList;

/** One field of a struct (or union member): id, property name, type. */
export type ThriftField = readonly [id: number, name: string, type: ThriftType];

/** A struct or union descriptor; fields sorted by id. */
export interface ThriftStruct {
  readonly fields: readonly ThriftField[];
  readonly byId: ReadonlyMap<number, ThriftField>;
}

/** A list<T> descriptor. */
export interface ThriftList {
  readonly list: ThriftType;
}

/** Builds a struct descriptor. */
export function thriftStruct(fields: readonly ThriftField[]): ThriftStruct {
  const sorted = [...fields].sort((a, b) => a[0] - b[0]);
  return { fields: sorted, byId: new Map(sorted.map((f) => [f[0], f])) };
}

/** Builds a list descriptor. */
export function thriftList(element: ThriftType): ThriftList {
  return { list: element };
}

/** Compact protocol type codes: plain numbers, because they are compared with codes read from the wire. */
const CT = {
  STOP: 0,
  TRUE: 1,
  FALSE: 2,
  BYTE: 3,
  I16: 4,
  I32: 5,
  I64: 6,
  DOUBLE: 7,
  BINARY: 8,
  LIST: 9,
  SET: 10,
  MAP: 11,
  STRUCT: 12,
} as const;

function typeCode(type: ThriftType): number {
  switch (type) {
    case 'bool':
      return CT.TRUE;
    case 'i8':
      return CT.BYTE;
    case 'i16':
      return CT.I16;
    case 'i32':
      return CT.I32;
    case 'i64':
      return CT.I64;
    case 'double':
      return CT.DOUBLE;
    case 'binary':
    case 'string':
      return CT.BINARY;
    default:
      return 'list' in type ? CT.LIST : CT.STRUCT;
  }
}

/** Encodes `value` as the struct `desc` describes; properties that are undefined or null are omitted. */
export function encodeThrift(desc: ThriftStruct, value: object, out = new ByteBuffer(256)): ByteBuffer {
  writeStruct(out, desc, value as Record<string, unknown>);
  return out;
}

function writeStruct(out: ByteBuffer, desc: ThriftStruct, value: Record<string, unknown>): void {
  let last = 0;
  for (const [id, name, type] of desc.fields) {
    const member = value[name];
    if (member === undefined || member === null) continue;
    const code = type === 'bool' ? (member ? CT.TRUE : CT.FALSE) : typeCode(type);
    const delta = id - last;
    if (delta > 0 && delta <= 15) out.u8((delta << 4) | code);
    else {
      out.u8(code);
      out.varint(zigzag(id));
    }
    last = id;
    if (type !== 'bool') writeValue(out, type, member, name);
  }
  out.u8(CT.STOP);
}

function writeValue(out: ByteBuffer, type: ThriftType, value: unknown, name: string): void {
  switch (type) {
    case 'bool':
      out.u8(value ? CT.TRUE : CT.FALSE);
      return;
    case 'i8':
      out.u8(Number(value) & 0xff);
      return;
    case 'i16':
    case 'i32':
    case 'i64': {
      const n = typeof value === 'bigint' ? Number(value) : (value as number);
      if (!Number.isSafeInteger(n)) throw new RangeError(`thrift field ${name}: ${String(value)} is not a safe integer`);
      if (Math.abs(n) < 2 ** 52) out.varint(zigzag(n));
      else writeBigVarint(out, n >= 0 ? BigInt(n) * 2n : -BigInt(n) * 2n - 1n);
      return;
    }
    case 'double': {
      out.ensure(8);
      out.view.setFloat64(out.pos, value as number, true);
      out.pos += 8;
      return;
    }
    case 'binary':
    case 'string': {
      const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : (value as Uint8Array);
      out.varint(bytes.length);
      out.append(bytes);
      return;
    }
    default:
      if ('list' in type) {
        const items = value as unknown[];
        const code = typeCode(type.list);
        if (items.length < 15) out.u8((items.length << 4) | code);
        else {
          out.u8(0xf0 | code);
          out.varint(items.length);
        }
        for (const item of items) writeValue(out, type.list, item, name);
      } else {
        writeStruct(out, type, value as Record<string, unknown>);
      }
  }
}

/** Unsigned varint of a bigint (zigzag results of magnitudes whose double arithmetic would round). */
function writeBigVarint(out: ByteBuffer, value: bigint): void {
  while (value >= 0x80n) {
    out.u8(Number(value & 0x7fn) | 0x80);
    value >>= 7n;
  }
  out.u8(Number(value));
}

/** Zigzag of an integer below 2^52 in magnitude, computed without 32-bit operators so it stays exact. */
function zigzag(n: number): number {
  return n >= 0 ? n * 2 : -n * 2 - 1;
}

/** Reads compact-protocol values from a byte array. */
export class ThriftReader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    offset = 0,
  ) {
    this.pos = offset;
  }

  private byte(): number {
    if (this.pos >= this.buf.length) throw new RangeError('thrift: unexpected end of data');
    return this.buf[this.pos++]!;
  }

  /** Unsigned varint as a safe integer; throws beyond 2^53. */
  varint(): number {
    let result = 0;
    let scale = 1;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) break;
      scale *= 0x80;
      if (scale > 2 ** 63) throw new RangeError('thrift: varint too long');
    }
    if (result > Number.MAX_SAFE_INTEGER) throw new RangeError('thrift: integer beyond 2^53 is not supported');
    return result;
  }

  /** Zigzag varint as a safe integer; throws beyond 2^53. */
  zigzag(): number {
    const start = this.pos;
    let v = 0;
    let scale = 1;
    for (;;) {
      const b = this.byte();
      v += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) break;
      scale *= 0x80;
    }
    if (v <= Number.MAX_SAFE_INTEGER) return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
    // Beyond 2^53 the double sum may have rounded: decode again exactly.
    this.pos = start;
    let big = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.byte();
      big |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
      shift += 7n;
      if (shift > 63n) throw new RangeError('thrift: varint too long');
    }
    const n = (big >> 1n) ^ -(big & 1n);
    if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < -BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new RangeError(`thrift: integer ${n} beyond 2^53 is not supported`);
    }
    return Number(n);
  }

  /** Length-prefixed bytes (a view into the input). */
  binary(): Uint8Array {
    const n = this.varint();
    if (this.pos + n > this.buf.length) throw new RangeError('thrift: binary runs past the end of data');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Skips one value of compact type `code`. */
  skip(code: number): void {
    switch (code) {
      case CT.TRUE:
      case CT.FALSE:
        return;
      case CT.BYTE:
        this.pos++;
        return;
      case CT.I16:
      case CT.I32:
      case CT.I64:
        while (this.byte() & 0x80);
        return;
      case CT.DOUBLE:
        this.pos += 8;
        return;
      case CT.BINARY:
        this.binary();
        return;
      case CT.LIST:
      case CT.SET: {
        const [size, element] = this.listHeader();
        for (let i = 0; i < size; i++) this.skipElement(element);
        return;
      }
      case CT.MAP: {
        const size = this.varint();
        if (size === 0) return;
        const kinds = this.byte();
        for (let i = 0; i < size; i++) {
          this.skipElement(kinds >> 4);
          this.skipElement(kinds & 0x0f);
        }
        return;
      }
      case CT.STRUCT:
        for (;;) {
          const header = this.byte();
          if (header === CT.STOP) return;
          if (header >> 4 === 0) this.zigzag();
          this.skip(header & 0x0f);
        }
      default:
        throw new RangeError(`thrift: unknown compact type ${code}`);
    }
  }

  /** Skips one container element of compact type `code`. */
  skipElement(code: number): void {
    // Booleans inside containers occupy one byte, unlike booleans as fields.
    if (code === CT.TRUE || code === CT.FALSE) this.pos++;
    else this.skip(code);
  }

  /** Size and element type code of a list header. */
  listHeader(): [number, number] {
    const header = this.byte();
    const size = header >> 4 === 15 ? this.varint() : header >> 4;
    return [size, header & 0x0f];
  }
}

/** Decodes a struct described by `desc` starting at `reader.pos`, leaving `reader.pos` after it. */
export function decodeThrift<T>(desc: ThriftStruct, reader: ThriftReader): T {
  return readStruct(reader, desc) as T;
}

function readStruct(r: ThriftReader, desc: ThriftStruct): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let last = 0;
  for (;;) {
    const header = r.buf[r.pos++];
    if (header === undefined) throw new RangeError('thrift: unexpected end of data');
    if (header === CT.STOP) return out;
    const code = header & 0x0f;
    const delta = header >> 4;
    const id = delta === 0 ? r.zigzag() : last + delta;
    last = id;
    const field = desc.byId.get(id);
    if (field === undefined || !compatible(field[2], code)) {
      r.skip(code);
      continue;
    }
    if (field[2] === 'bool') out[field[1]] = code === CT.TRUE;
    else out[field[1]] = readValue(r, field[2]);
  }
}

function compatible(type: ThriftType, code: number): boolean {
  if (type === 'bool') return code === CT.TRUE || code === CT.FALSE;
  const expected = typeCode(type);
  return expected === code || (expected === CT.LIST && code === CT.SET);
}

function readValue(r: ThriftReader, type: ThriftType): unknown {
  switch (type) {
    case 'bool':
      return r.buf[r.pos++] === CT.TRUE;
    case 'i8': {
      const b = r.buf[r.pos++]!;
      return b > 127 ? b - 256 : b;
    }
    case 'i16':
    case 'i32':
    case 'i64':
      return r.zigzag();
    case 'double': {
      const view = new DataView(r.buf.buffer, r.buf.byteOffset + r.pos, 8);
      r.pos += 8;
      return view.getFloat64(0, true);
    }
    case 'binary':
      return Uint8Array.from(r.binary());
    case 'string':
      return Buffer.from(r.binary()).toString('utf8');
    default:
      if ('list' in type) {
        const [size, code] = r.listHeader();
        const items: unknown[] = new Array(size);
        const element = type.list;
        if (!compatible(element, code) && size > 0) {
          for (let i = 0; i < size; i++) r.skipElement(code);
          return [];
        }
        for (let i = 0; i < size; i++) items[i] = readValue(r, element);
        return items;
      }
      return readStruct(r, type);
  }
}
