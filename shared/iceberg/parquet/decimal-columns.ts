/**
 * Decimal column writers (Iceberg spec Appendix A): the unscaled value is checked against the precision and
 * written as INT32 (P <= 9), INT64 (P <= 18) or big-endian two's complement FIXED_LEN_BYTE_ARRAY of the minimum
 * width for the precision.
 */
import type { Value } from '../spec/values';
import { ColumnWriter, type PageContext, TWO_32, putInt64, putSafeInt64, updateNumeric } from './column-writer';
import type { LeafColumn } from './parquet-schema';

/** Checks unscaled values against the precision; safe-integer numbers and bigints are both accepted. */
abstract class DecimalColumn extends ColumnWriter {
  protected readonly maxUnscaled: bigint;
  protected readonly maxNumber: number;

  constructor(
    leaf: LeafColumn,
    context: PageContext,
    pageSize: number,
    protected readonly precision: number,
  ) {
    super(leaf, context, pageSize);
    this.maxUnscaled = 10n ** BigInt(precision) - 1n;
    // Above 15 digits every safe integer fits, so the (inexact) double bound never rejects one wrongly.
    this.maxNumber = precision <= 15 ? 10 ** precision - 1 : Number.MAX_SAFE_INTEGER;
  }

  /** Checks an unscaled value against the precision; returns it unchanged. */
  protected check(v: Value): number | bigint {
    if (typeof v === 'number') return this.checkNumber(v);
    if (typeof v !== 'bigint') this.fail('expected an unscaled decimal bigint', v);
    if (v > this.maxUnscaled || v < -this.maxUnscaled) this.tooWide(v);
    return v;
  }

  protected checkNumber(v: number): number {
    if (!Number.isSafeInteger(v)) this.fail('unscaled decimal must be a bigint or a safe integer', v);
    if (v > this.maxNumber || v < -this.maxNumber) this.tooWide(v);
    return v;
  }

  private tooWide(v: Value): never {
    this.fail(`unscaled value has more digits than precision ${this.precision}`, v);
  }
}

/** decimal(P <= 9, S) as INT32. */
export class Decimal32Column extends DecimalColumn {
  put(v: Value): void {
    this.putNumber(Number(this.check(v)));
  }

  protected override putNumber(v: number): void {
    const n = this.checkNumber(v);
    this.ensure(4);
    this.view.setInt32(this.pos, n, true);
    this.pos += 4;
    updateNumeric(this, n);
  }
}

/** decimal(P <= 18, S) as INT64. */
export class Decimal64Column extends DecimalColumn {
  put(v: Value): void {
    putInt64(this, this.check(v));
    updateNumeric(this, v as number | bigint);
  }

  protected override putNumber(v: number): void {
    putSafeInt64(this, this.checkNumber(v));
    updateNumeric(this, v);
  }
}

/** decimal(P > 18, S) as big-endian two's complement FIXED_LEN_BYTE_ARRAY. */
export class DecimalFixedColumn extends DecimalColumn {
  private readonly scratch = new DataView(new ArrayBuffer(8));

  constructor(
    leaf: LeafColumn,
    context: PageContext,
    pageSize: number,
    precision: number,
    private readonly width: number,
  ) {
    super(leaf, context, pageSize, precision);
  }

  put(v: Value): void {
    const n = this.check(v);
    const width = this.width;
    this.ensure(width);
    const at = this.pos;
    const low = at + width - 8;
    if (typeof n === 'number') {
      // Sign-extend a safe integer: high bytes all 0x00 or 0xFF, low 8 bytes big-endian.
      this.data.fill(n < 0 ? 0xff : 0, at, low);
      const hi = Math.floor(n / TWO_32);
      this.view.setInt32(low, hi, false);
      this.view.setUint32(low + 4, n - hi * TWO_32, false);
    } else {
      this.view.setBigUint64(low, BigInt.asUintN(64, n), false);
      const high = n >> 64n;
      const highBytes = width - 8;
      if (highBytes <= 6) this.data.writeIntBE(Number(high), at, highBytes);
      else {
        this.scratch.setBigInt64(0, high, false);
        for (let i = 0; i < highBytes; i++) this.data[at + i] = this.scratch.getUint8(8 - highBytes + i);
      }
    }
    this.pos = at + width;
    updateNumeric(this, n);
  }
}
