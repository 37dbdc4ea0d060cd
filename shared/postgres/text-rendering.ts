/**
 * Decoded values printed the way PostgreSQL prints them (with TimeZone UTC, DateStyle ISO, IntervalStyle
 * iso_8601, extra_float_digits >= 1, bytea_output hex). The verifier compares these with `col::text` from the
 * source, and error messages show offending values in the same form.
 */
import type { Value } from '../iceberg/spec/values';
import { decimalToString } from '../iceberg/spec/values';
import type { DecodePlan } from './decode-plan';
// Proleptic Gregorian dates (year 0 is 1 BC), the calendar PostgreSQL and Iceberg both use.
import { civilFromDays } from '../iceberg/spec/temporal';

const MICROS_PER_DAY = 86_400_000_000;
const MICROS_PER_DAY_BIG = 86_400_000_000n;
const NUMERIC_NEG = 0x4000;

/**
 * A decoded value as `col::text` prints the source value; null for SQL NULL. (A boolean cast to text is
 * 'true'/'false', while inside arrays and rows PostgreSQL prints 't'/'f'.)
 */
export function renderForComparison(plan: DecodePlan, value: Value): string | null {
  if (plan.kind === 'boolean' && value !== null) return value === true ? 'true' : 'false';
  return render(plan, value);
}

function render(plan: DecodePlan, value: Value): string | null {
  if (value === null) return null;
  switch (plan.kind) {
    case 'boolean':
      return value === true ? 't' : 'f';
    case 'int2':
    case 'int4':
    case 'int8':
    case 'oid':
      return String(value as number | bigint);
    case 'float4':
      return renderFloat(value as number, true);
    case 'float8':
      return renderFloat(value as number, false);
    case 'decimal':
      return decimalToString(BigInt(value as number | bigint), plan.scale);
    case 'date':
      return renderDate(value as number);
    case 'time':
      return renderTime(Number(value));
    case 'timestamp':
    case 'timestamptz':
      return renderTimestampMicros(value as number | bigint, plan.kind === 'timestamptz');
    case 'bytea':
      return `\\x${Buffer.from(value as Uint8Array).toString('hex')}`;
    case 'array':
      return `{${(value as Value[]).map((element) => arrayElement(render(plan.element, element))).join(',')}}`;
    case 'composite':
      return `(${(value as Value[]).map((field, i) => recordField(render(plan.fields[i]!.plan, field))).join(',')})`;
    default:
      return value as string;
  }
}

function arrayElement(text: string | null): string {
  if (text === null) return 'NULL';
  if (text === '' || /^null$/i.test(text) || /["\\{},\s]/.test(text)) return `"${text.replace(/(["\\])/g, '\\$1')}"`;
  return text;
}

function recordField(text: string | null): string {
  if (text === null) return '';
  if (text === '' || /["\\(),\s]/.test(text)) return `"${text.replace(/"/g, '""').replace(/\\/g, '\\\\')}"`;
  return text;
}

/** float4/float8 as PostgreSQL 12+ prints them: shortest exact digits, exponent form outside [1e-4, 1e15) (1e6 for float4). */
export function renderFloat(value: number, single: boolean): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  let exponential = value.toExponential();
  if (single) {
    for (let digits = 1; digits <= 9; digits++) {
      const candidate = value.toExponential(digits - 1);
      if (Math.fround(Number(candidate)) === value) {
        exponential = candidate;
        break;
      }
    }
  }
  const match = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(exponential)!;
  const sign = match[1]!;
  const digits = (match[2]! + (match[3] ?? '')).replace(/0+$/, '') || '0';
  const exponent = Number(match[4]);
  if (exponent >= -4 && exponent < (single ? 6 : 15)) {
    if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
    if (digits.length <= exponent + 1) return sign + digits + '0'.repeat(exponent + 1 - digits.length);
    return `${sign}${digits.slice(0, exponent + 1)}.${digits.slice(exponent + 1)}`;
  }
  const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const abs = Math.abs(exponent);
  return `${sign}${mantissa}e${exponent < 0 ? '-' : '+'}${abs < 10 ? '0' : ''}${abs}`;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function datePart(days: number): { text: string; bc: boolean } {
  const { year, month, day } = civilFromDays(days);
  const bc = year <= 0;
  return { text: `${pad(bc ? 1 - year : year, 4)}-${pad(month, 2)}-${pad(day, 2)}`, bc };
}

/** A date (days from 1970) in ISO style: `2024-02-29`, `4713-11-24 BC`. */
export function renderDate(days: number): string {
  const { text, bc } = datePart(days);
  return bc ? `${text} BC` : text;
}

function clock(micros: number): string {
  const seconds = Math.floor(micros / 1_000_000);
  const fraction = micros - seconds * 1_000_000;
  const text = `${pad(Math.floor(seconds / 3600), 2)}:${pad(Math.floor(seconds / 60) % 60, 2)}:${pad(seconds % 60, 2)}`;
  return fraction === 0 ? text : `${text}.${pad(fraction, 6).replace(/0+$/, '')}`;
}

/** A time of day (µs from midnight): `13:45:00`, `00:00:00.5`. */
export function renderTime(micros: number): string {
  return clock(micros);
}

/** A timestamp (µs from 1970) in ISO style; `zone` appends the UTC offset `+00` as timestamptz prints in UTC. */
export function renderTimestampMicros(micros: number | bigint, zone: boolean): string {
  let days: number;
  let rest: number;
  if (typeof micros === 'number') {
    days = Math.floor(micros / MICROS_PER_DAY);
    rest = micros - days * MICROS_PER_DAY;
  } else {
    let d = micros / MICROS_PER_DAY_BIG;
    if (micros % MICROS_PER_DAY_BIG < 0n) d -= 1n;
    days = Number(d);
    rest = Number(micros - d * MICROS_PER_DAY_BIG);
  }
  const { text, bc } = datePart(days);
  return `${text} ${clock(rest)}${zone ? '+00' : ''}${bc ? ' BC' : ''}`;
}

/** numeric_out from base-10000 digits: exactly `dscale` decimals; 'NaN', 'Infinity', '-Infinity'. */
export function renderNumericText(digits: readonly number[], weight: number, sign: number, dscale: number): string {
  if (sign === 0xc000) return 'NaN';
  if (sign === 0xd000) return 'Infinity';
  if (sign === 0xf000) return '-Infinity';
  const digitAt = (i: number): number => (i >= 0 && i < digits.length ? digits[i]! : 0);
  let integer = '';
  if (weight < 0) integer = '0';
  else {
    for (let i = 0; i <= weight; i++) integer += i === 0 ? String(digitAt(i)) : pad(digitAt(i), 4);
  }
  let fraction = '';
  for (let i = weight + 1; fraction.length < dscale; i++) fraction += pad(digitAt(i), 4);
  const text = dscale > 0 ? `${integer}.${fraction.slice(0, dscale)}` : integer;
  return sign === NUMERIC_NEG ? `-${text}` : text;
}

/**
 * An interval as ISO 8601, exactly as PostgreSQL prints it with IntervalStyle iso_8601: fields keep their own
 * signs (`P-1Y-2M3DT-4H-5M-6.789S`), zero is `PT0S`, and PostgreSQL 17's infinite intervals are `infinity`.
 */
export function formatInterval(time: bigint, days: number, months: number): string {
  if (months === 0x7fffffff && days === 0x7fffffff && time === 0x7fffffffffffffffn) return 'infinity';
  if (months === -0x80000000 && days === -0x80000000 && time === -0x8000000000000000n) return '-infinity';
  const years = Math.trunc(months / 12);
  const month = months % 12;
  // BigInt division truncates toward zero like C, so every part carries the sign of the whole time.
  const hours = time / 3_600_000_000n;
  let rest = time - hours * 3_600_000_000n;
  const minutes = rest / 60_000_000n;
  rest -= minutes * 60_000_000n;
  const seconds = rest / 1_000_000n;
  const fraction = rest - seconds * 1_000_000n;
  if (years === 0 && month === 0 && days === 0 && time === 0n) return 'PT0S';
  let out = 'P';
  if (years !== 0) out += `${years}Y`;
  if (month !== 0) out += `${month}M`;
  if (days !== 0) out += `${days}D`;
  if (time !== 0n) out += 'T';
  if (hours !== 0n) out += `${hours}H`;
  if (minutes !== 0n) out += `${minutes}M`;
  if (seconds !== 0n || fraction !== 0n) {
    const negative = seconds < 0n || fraction < 0n;
    const abs = (n: bigint): bigint => (n < 0n ? -n : n);
    out += `${negative ? '-' : ''}${abs(seconds)}`;
    if (fraction !== 0n) out += `.${abs(fraction).toString().padStart(6, '0').replace(/0+$/, '')}`;
    out += 'S';
  }
  return out;
}
