/**
 * Log sequence numbers: 64-bit WAL positions, held as bigint and printed the way PostgreSQL prints them
 * (`16/B374D848`: the high and low 32 bits in uppercase hex), so they compare exactly and read like pg_lsn.
 */
import { ValidationError } from '../errors';

/** A WAL position. */
export type Lsn = bigint;

const LSN_TEXT = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;

/** `X/Y` text (as pg_lsn prints it) to a bigint. */
export function parseLsn(text: string): Lsn {
  const match = LSN_TEXT.exec(text);
  if (match === null) throw new ValidationError(`not a WAL position (expected X/Y in hex, as pg_lsn prints it): ${JSON.stringify(text.slice(0, 40))}`);
  return (BigInt(`0x${match[1]!}`) << 32n) | BigInt(`0x${match[2]!}`);
}

/** The canonical `X/Y` text of a position, as pg_lsn prints it. */
export function formatLsn(lsn: Lsn): string {
  if (lsn < 0n || lsn > 0xffffffffffffffffn) throw new ValidationError(`WAL position out of range: ${lsn}`);
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

/** The larger of two positions. */
export function maxLsn(a: Lsn, b: Lsn): Lsn {
  return a > b ? a : b;
}

/**
 * Snapshot summary property: the LSN ('X/Y') a table is complete up to. The hand-over of `migrate --cdc` records
 * the slot's consistent point on the copy's commit; the applier records each batch's last transaction end LSN.
 * Changes of transactions ending at or before it are in the table.
 */
export const CDC_LSN_PROPERTY = 'icebridge.cdc.lsn';
