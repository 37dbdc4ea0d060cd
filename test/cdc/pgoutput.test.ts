import { describe, expect, it } from 'vitest';
import { formatLsn, parseLsn } from '../../shared/cdc/lsn';
import { type PgoutputMessage, type TupleColumn, parsePgoutput, tupleBytes } from '../../shared/cdc/pgoutput';

/** A parsed message with its tuple values copied out of the message buffer, to compare with expected bytes. */
function parsed(payload: Buffer): unknown {
  const message = parsePgoutput(payload);
  const plain = (tuple: TupleColumn[] | undefined): unknown =>
    tuple?.map((c) => (c.kind === 'text' || c.kind === 'binary' ? { kind: c.kind, bytes: tupleBytes(c) } : c));
  if (message.tag === 'insert') return { ...message, after: plain(message.after) };
  if (message.tag === 'update') return { ...message, before: plain(message.before), after: plain(message.after) };
  if (message.tag === 'delete') return { ...message, before: plain(message.before) };
  return message satisfies PgoutputMessage;
}

/** Builds a message from parts: a one-character string is a byte tag, numbers are sized explicitly. */
function message(...parts: Array<Buffer | string | { u8: number } | { u16: number } | { u32: number } | { i32: number } | { u64: bigint }>): Buffer {
  return Buffer.concat(
    parts.map((part) => {
      if (Buffer.isBuffer(part)) return part;
      if (typeof part === 'string') return Buffer.from(part, 'utf8');
      const b = Buffer.alloc('u8' in part ? 1 : 'u16' in part ? 2 : 'u64' in part ? 8 : 4);
      if ('u8' in part) b.writeUInt8(part.u8);
      else if ('u16' in part) b.writeUInt16BE(part.u16);
      else if ('u32' in part) b.writeUInt32BE(part.u32);
      else if ('i32' in part) b.writeInt32BE(part.i32);
      else b.writeBigUInt64BE(part.u64);
      return b;
    }),
  );
}
const cstring = (text: string): Buffer => Buffer.from(`${text}\u0000`, 'utf8');

describe('LSNs', () => {
  it('round-trips the X/Y form as pg_lsn prints it', () => {
    expect(parseLsn('16/B374D848')).toBe(0x16b374d848n);
    expect(formatLsn(0x16b374d848n)).toBe('16/B374D848');
    expect(formatLsn(0n)).toBe('0/0');
    expect(formatLsn(parseLsn('FFFFFFFF/FFFFFFFF'))).toBe('FFFFFFFF/FFFFFFFF');
    expect(() => parseLsn('16-B374')).toThrow(/not a WAL position/);
  });
});

describe('pgoutput messages', () => {
  it('parses Begin, Commit and Origin', () => {
    expect(parsePgoutput(message('B', { u64: 0x100n }, { u64: 5n }, { u32: 0xfffffffe }))).toEqual({
      tag: 'begin',
      finalLsn: 0x100n,
      commitTime: 5n,
      xid: 0xfffffffe,
    });
    expect(parsePgoutput(message('C', { u8: 0 }, { u64: 0x100n }, { u64: 0x128n }, { u64: 7n }))).toEqual({
      tag: 'commit',
      flags: 0,
      commitLsn: 0x100n,
      endLsn: 0x128n,
      commitTime: 7n,
    });
    expect(parsePgoutput(message('O', { u64: 9n }, cstring('east')))).toEqual({ tag: 'origin', originLsn: 9n, name: 'east' });
  });

  it('parses a Relation with key flags, typmods and names in UTF-8', () => {
    const parsed = parsePgoutput(
      message(
        'R',
        { u32: 16384 },
        cstring('édge'),
        cstring('Order'),
        'f',
        { u16: 2 },
        { u8: 1 },
        cstring('id'),
        { u32: 23 },
        { i32: -1 },
        { u8: 0 },
        cstring('n'),
        { u32: 1700 },
        { i32: 655366 },
      ),
    );
    expect(parsed).toEqual({
      tag: 'relation',
      relationId: 16384,
      schema: 'édge',
      name: 'Order',
      replicaIdentity: 'full',
      columns: [
        { name: 'id', typeOid: 23, typmod: -1, key: true },
        { name: 'n', typeOid: 1700, typmod: 655366, key: false },
      ],
    });
  });

  it("keeps 'u' (unchanged TOAST) apart from 'n' (null) and reads text and binary bytes", () => {
    const tuple = message({ u16: 4 }, 'n', 'u', 't', { u32: 2 }, 'hi', 'b', { u32: 4 }, { u32: 42 });
    expect(parsed(message('I', { u32: 1 }, 'N', tuple))).toEqual({
      tag: 'insert',
      relationId: 1,
      after: [{ kind: 'null' }, { kind: 'unchanged' }, { kind: 'text', bytes: Buffer.from('hi') }, { kind: 'binary', bytes: message({ u32: 42 }) }],
    });
  });

  it('parses Update with an old key, with an old row and without either, Delete and Truncate flags', () => {
    const one = message({ u16: 1 }, 'b', { u32: 4 }, { u32: 1 });
    const two = message({ u16: 1 }, 'b', { u32: 4 }, { u32: 2 });
    const col = (n: number): unknown => ({ kind: 'binary', bytes: message({ u32: n }) });
    expect(parsed(message('U', { u32: 1 }, 'K', one, 'N', two))).toEqual({
      tag: 'update',
      relationId: 1,
      oldKind: 'key',
      before: [col(1)],
      after: [col(2)],
    });
    expect(parsed(message('U', { u32: 1 }, 'O', one, 'N', two))).toMatchObject({ oldKind: 'full', before: [col(1)] });
    expect(parsed(message('U', { u32: 1 }, 'N', two))).toEqual({ tag: 'update', relationId: 1, oldKind: undefined, before: undefined, after: [col(2)] });
    expect(parsed(message('D', { u32: 1 }, 'K', one))).toEqual({ tag: 'delete', relationId: 1, oldKind: 'key', before: [col(1)] });
    expect(parsePgoutput(message('T', { u32: 2 }, { u8: 3 }, { u32: 5 }, { u32: 6 }))).toEqual({
      tag: 'truncate',
      relationIds: [5, 6],
      cascade: true,
      restartIdentity: true,
    });
    expect(parsePgoutput(message('T', { u32: 1 }, { u8: 2 }, { u32: 5 }))).toMatchObject({ cascade: false, restartIdentity: true });
  });

  it('parses a logical decoding Message', () => {
    expect(parsePgoutput(message('M', { u8: 1 }, { u64: 3n }, cstring('app'), { u32: 2 }, 'ok'))).toEqual({
      tag: 'message',
      transactional: true,
      lsn: 3n,
      prefix: 'app',
      content: Buffer.from('ok'),
    });
  });

  it('refuses truncated messages, leftovers and unknown tags instead of guessing', () => {
    expect(() => parsePgoutput(message('B', { u64: 1n }))).toThrow(/truncated/);
    expect(() => parsePgoutput(message('O', { u64: 1n }, 'east'))).toThrow(/unterminated string/);
    expect(() => parsePgoutput(message('T', { u32: 1 }, { u8: 0 }, { u32: 5 }, { u8: 0 }))).toThrow(/left over/);
    expect(() => parsePgoutput(message('S', { u32: 1 }))).toThrow(/unexpected message "S"/);
    expect(() => parsePgoutput(message('I', { u32: 1 }, 'N', { u16: 1 }, 'x'))).toThrow(/unknown tuple column kind "x"/);
  });
});
