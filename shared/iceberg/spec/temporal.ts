/**
 * Calendar arithmetic on the spec's temporal values (days and microseconds from the epoch, proleptic Gregorian,
 * UTC) without JS `Date`, which cannot hold microseconds, plus the text forms Java's `java.time` prints.
 */

/** Microseconds in a day. */
export const MICROS_PER_DAY = 86_400_000_000n;
/** Microseconds in an hour. */
export const MICROS_PER_HOUR = 3_600_000_000n;

/** Integer division rounding towards negative infinity, so 1969 values land in the period that contains them. */
export function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

/** A calendar date. */
export interface CivilDate {
  year: number;
  /** 1..12 */
  month: number;
  /** 1..31 */
  day: number;
}

// Howard Hinnant's civil_from_days / days_from_civil: exact for every int32 day count.
/** The calendar date of a day count from 1970-01-01. */
export function civilFromDays(days: number): CivilDate {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

/** Days from 1970-01-01 of a calendar date. */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** Day containing a timestamp (floor). */
export function microsToDays(micros: bigint): number {
  return Number(floorDiv(micros, MICROS_PER_DAY));
}

/** Hour containing a timestamp, as hours from the epoch (floor). */
export function microsToHours(micros: bigint): number {
  return Number(floorDiv(micros, MICROS_PER_HOUR));
}

/** Year of a day count, as years from 1970. */
export function daysToYears(days: number): number {
  return civilFromDays(days).year - 1970;
}

/** Month of a day count, as months from 1970-01. */
export function daysToMonths(days: number): number {
  const { year, month } = civilFromDays(days);
  return (year - 1970) * 12 + month - 1;
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

/** Java `String.format("%04d", year)`: the sign counts towards the width. */
export function formatYear(year: number): string {
  return year < 0 ? `-${pad(-year, 3)}` : pad(year, 4);
}

/** `yyyy-MM-dd` as Iceberg's Java transforms print a day ordinal. */
export function formatDay(days: number): string {
  const { year, month, day } = civilFromDays(days);
  return `${formatYear(year)}-${pad(month, 2)}-${pad(day, 2)}`;
}

/** `yyyy-MM` of a month ordinal (months from 1970-01). */
export function formatMonth(months: number): string {
  const year = 1970 + Math.floor(months / 12);
  return `${formatYear(year)}-${pad(months - (year - 1970) * 12 + 1, 2)}`;
}

/** `yyyy-MM-dd-HH` of an hour ordinal (hours from the epoch). */
export function formatHour(hours: number): string {
  const days = Math.floor(hours / 24);
  return `${formatDay(days)}-${pad(hours - days * 24, 2)}`;
}

/** ISO_LOCAL_DATE of a day count: four digits at least, '+' past 9999, '-' before year 0. */
export function isoDate(days: number): string {
  const { year, month, day } = civilFromDays(days);
  const y = year < 0 ? `-${pad(-year, 4)}` : year > 9999 ? `+${year}` : pad(year, 4);
  return `${y}-${pad(month, 2)}-${pad(day, 2)}`;
}

interface TimeParts {
  hour: number;
  minute: number;
  second: number;
  micro: number;
}

function timeParts(microsOfDay: bigint): TimeParts {
  const total = Number(microsOfDay);
  const seconds = Math.floor(total / 1_000_000);
  return {
    hour: Math.floor(seconds / 3600),
    minute: Math.floor(seconds / 60) % 60,
    second: seconds % 60,
    micro: total - seconds * 1_000_000,
  };
}

// ISO_LOCAL_TIME: seconds always, fraction with trailing zeros dropped.
function isoTime(t: TimeParts): string {
  const base = `${pad(t.hour, 2)}:${pad(t.minute, 2)}:${pad(t.second, 2)}`;
  return t.micro === 0 ? base : `${base}.${pad(t.micro, 6).replace(/0+$/, '')}`;
}

/** `LocalTime.toString()`: seconds only when non-zero, fraction in groups of three digits. */
export function formatLocalTime(microsOfDay: bigint): string {
  const t = timeParts(microsOfDay);
  let out = `${pad(t.hour, 2)}:${pad(t.minute, 2)}`;
  if (t.second === 0 && t.micro === 0) return out;
  out += `:${pad(t.second, 2)}`;
  if (t.micro === 0) return out;
  return t.micro % 1000 === 0 ? `${out}.${pad(t.micro / 1000, 3)}` : `${out}.${pad(t.micro, 6)}`;
}

/** ISO_LOCAL_DATE_TIME of a timestamp without zone: `2017-11-16T22:31:08.000001`. */
export function formatTimestamp(micros: bigint): string {
  const days = floorDiv(micros, MICROS_PER_DAY);
  return `${isoDate(Number(days))}T${isoTime(timeParts(micros - days * MICROS_PER_DAY))}`;
}

/** A timestamptz in UTC as Iceberg's Java code prints it: `2017-11-16T22:31:08+00:00`. */
export function formatTimestamptz(micros: bigint): string {
  return `${formatTimestamp(micros)}+00:00`;
}
