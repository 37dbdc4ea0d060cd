/**
 * The pgoutput logical decoding protocol ("Logical Replication Message Formats" in the PostgreSQL manual), parsed
 * from the payload of one XLogData message. Pure: no I/O, no state. Tuple columns come back raw (null, unchanged
 * TOASTed value, text or binary bytes); change-decoder.ts turns them into values with the copy's own decoders.
 */
import { ValidationError } from '../errors';
import type { Lsn } from './lsn';

/**
 * One column of a TupleData: 'n' null, 'u' an unchanged TOASTed value that was not sent, 't' text, 'b' binary.
 * A sent value is a view of the message buffer, `buf[start, start + length)`, not a copy: copying every value of
 * every change was a tenth of the stream's work. It is decoded while the message is handled (the decoders copy
 * what they keep); `tupleBytes` copies one out.
 */
export type TupleColumn = { kind: 'null' } | { kind: 'unchanged' } | { kind: 'text' | 'binary'; buf: Buffer; start: number; length: number };

/** A copy of a sent column's bytes, for a value that must outlive its message. */
export function tupleBytes(column: { buf: Buffer; start: number; length: number }): Buffer {
  return Buffer.from(column.buf.subarray(column.start, column.start + column.length));
}

/** A column of a Relation message: published columns only (no dropped ones; generated ones before PostgreSQL 18). */
export interface RelationColumn {
  name: string;
  /** pg_attribute.atttypid: a domain column names the domain. */
  typeOid: number;
  typmod: number;
  /** Part of the replica identity (the key sent in old tuples). */
  key: boolean;
}

/** Which old values an Update or Delete carries: 'key' the replica identity columns only, 'full' the whole old row. */
export type OldTupleKind = 'key' | 'full';

/** A decoded pgoutput message. */
export type PgoutputMessage =
  | { tag: 'begin'; finalLsn: Lsn; commitTime: bigint; xid: number }
  | { tag: 'commit'; flags: number; commitLsn: Lsn; endLsn: Lsn; commitTime: bigint }
  | { tag: 'origin'; originLsn: Lsn; name: string }
  | { tag: 'relation'; relationId: number; schema: string; name: string; replicaIdentity: 'default' | 'nothing' | 'full' | 'index'; columns: RelationColumn[] }
  | { tag: 'type'; typeId: number; schema: string; name: string }
  | { tag: 'insert'; relationId: number; after: TupleColumn[] }
  | { tag: 'update'; relationId: number; oldKind: OldTupleKind | undefined; before: TupleColumn[] | undefined; after: TupleColumn[] }
  | { tag: 'delete'; relationId: number; oldKind: OldTupleKind; before: TupleColumn[] }
  | { tag: 'truncate'; relationIds: number[]; cascade: boolean; restartIdentity: boolean }
  | { tag: 'message'; transactional: boolean; lsn: Lsn; prefix: string; content: Buffer };

const REPLICA_IDENTITY: Record<string, 'default' | 'nothing' | 'full' | 'index'> = { d: 'default', n: 'nothing', f: 'full', i: 'index' };
const TRUNCATE_CASCADE = 1;
const TRUNCATE_RESTART_IDENTITY = 2;

/** Parses one pgoutput message (the XLogData payload `buf[start, end)`). Tuple values are views of `buf` (see TupleColumn). */
export function parsePgoutput(buf: Buffer, start = 0, end = buf.length): PgoutputMessage {
  const r = new Reader(buf, start, end);
  const tag = String.fromCharCode(r.byte());
  let message: PgoutputMessage;
  switch (tag) {
    case 'B':
      message = { tag: 'begin', finalLsn: r.uint64(), commitTime: r.int64(), xid: r.uint32() };
      break;
    case 'C':
      message = { tag: 'commit', flags: r.byte(), commitLsn: r.uint64(), endLsn: r.uint64(), commitTime: r.int64() };
      break;
    case 'O':
      message = { tag: 'origin', originLsn: r.uint64(), name: r.cstring() };
      break;
    case 'R': {
      const relationId = r.uint32();
      const schema = r.cstring();
      const name = r.cstring();
      const identity = String.fromCharCode(r.byte());
      const replicaIdentity = REPLICA_IDENTITY[identity];
      if (replicaIdentity === undefined) throw protocolError(`unknown replica identity ${JSON.stringify(identity)}`);
      const count = r.uint16();
      const columns: RelationColumn[] = [];
      for (let i = 0; i < count; i++) {
        const flags = r.byte();
        columns.push({ name: r.cstring(), typeOid: r.uint32(), typmod: r.int32(), key: (flags & 1) !== 0 });
      }
      message = { tag: 'relation', relationId, schema, name, replicaIdentity, columns };
      break;
    }
    case 'Y':
      message = { tag: 'type', typeId: r.uint32(), schema: r.cstring(), name: r.cstring() };
      break;
    case 'I': {
      const relationId = r.uint32();
      r.expect('N');
      message = { tag: 'insert', relationId, after: r.tuple() };
      break;
    }
    case 'U': {
      const relationId = r.uint32();
      let oldKind: OldTupleKind | undefined;
      let before: TupleColumn[] | undefined;
      const marker = String.fromCharCode(r.byte());
      if (marker === 'K' || marker === 'O') {
        oldKind = marker === 'K' ? 'key' : 'full';
        before = r.tuple();
        r.expect('N');
      } else if (marker !== 'N') {
        throw protocolError(`Update: expected K, O or N, got ${JSON.stringify(marker)}`);
      }
      message = { tag: 'update', relationId, oldKind, before, after: r.tuple() };
      break;
    }
    case 'D': {
      const relationId = r.uint32();
      const marker = String.fromCharCode(r.byte());
      if (marker !== 'K' && marker !== 'O') throw protocolError(`Delete: expected K or O, got ${JSON.stringify(marker)}`);
      message = { tag: 'delete', relationId, oldKind: marker === 'K' ? 'key' : 'full', before: r.tuple() };
      break;
    }
    case 'T': {
      const count = r.uint32();
      const options = r.byte();
      const relationIds: number[] = [];
      for (let i = 0; i < count; i++) relationIds.push(r.uint32());
      message = {
        tag: 'truncate',
        relationIds,
        cascade: (options & TRUNCATE_CASCADE) !== 0,
        restartIdentity: (options & TRUNCATE_RESTART_IDENTITY) !== 0,
      };
      break;
    }
    case 'M': {
      const transactional = r.byte() !== 0;
      const lsn = r.uint64();
      const prefix = r.cstring();
      const length = r.uint32();
      message = { tag: 'message', transactional, lsn, prefix, content: r.bytes(length) };
      break;
    }
    default:
      // Stream*, Begin/Commit Prepare and the like are only sent when asked for (streaming, two_phase): never here.
      throw protocolError(`unexpected message ${JSON.stringify(tag)}`);
  }
  if (r.pos !== end) throw protocolError(`${tag} message has ${end - r.pos} bytes left over`);
  return message;
}

function protocolError(detail: string): ValidationError {
  return new ValidationError(`pgoutput protocol: ${detail}`);
}

/** Reads big-endian fields off a bounded range, refusing to run past it. */
class Reader {
  constructor(
    private readonly buf: Buffer,
    public pos: number,
    private readonly end: number,
  ) {}

  private need(n: number): void {
    if (this.pos + n > this.end) throw protocolError(`message truncated at byte ${this.pos} (needs ${n} more)`);
  }

  byte(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  expect(marker: string): void {
    const got = String.fromCharCode(this.byte());
    if (got !== marker) throw protocolError(`expected ${marker}, got ${JSON.stringify(got)}`);
  }

  uint16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  int32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  uint32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  uint64(): bigint {
    this.need(8);
    const v = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  int64(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  cstring(): string {
    const zero = this.buf.indexOf(0, this.pos);
    if (zero < 0 || zero >= this.end) throw protocolError(`unterminated string at byte ${this.pos}`);
    const text = this.buf.toString('utf8', this.pos, zero);
    this.pos = zero + 1;
    return text;
  }

  bytes(n: number): Buffer {
    this.need(n);
    // A copy: the message buffer is the stream's, and values outlive it.
    const out = Buffer.from(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return out;
  }

  tuple(): TupleColumn[] {
    const count = this.uint16();
    const columns: TupleColumn[] = [];
    for (let i = 0; i < count; i++) {
      const kind = String.fromCharCode(this.byte());
      if (kind === 'n') columns.push({ kind: 'null' });
      else if (kind === 'u') columns.push({ kind: 'unchanged' });
      else if (kind === 't' || kind === 'b') {
        const length = this.uint32();
        this.need(length);
        columns.push({ kind: kind === 't' ? 'text' : 'binary', buf: this.buf, start: this.pos, length });
        this.pos += length;
      } else throw protocolError(`unknown tuple column kind ${JSON.stringify(kind)}`);
    }
    return columns;
  }
}
