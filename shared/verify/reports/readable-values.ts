/**
 * Canonical texts (canonical/) as people read them, for the terminal and HTML reports: timestamps, dates and
 * times as ISO 8601 instead of microseconds or days from 1970, floats as decimal numbers instead of their IEEE
 * bytes. Each mapping is lossless (microseconds kept, every float its exact shortest decimal, -0 and NaN kept),
 * so two different values never look the same. The JSON report keeps the canonical texts, for machines.
 */
import { MICROS_PER_DAY, floorDiv, isoDate } from '../../iceberg/spec/temporal';
import type { TableVerification, VerificationReport } from '../contracts';

/** The report with every value of a column of known type shown readably (tables without `columns` unchanged). */
export function readableReport(report: VerificationReport): VerificationReport {
  return { ...report, tables: report.tables.map(readableTable) };
}

function readableTable(t: TableVerification): TableVerification {
  if (t.columns === undefined) return t;
  const types = new Map(t.columns.map((c) => [c.name, c.type]));
  const show = (column: string, value: string | null): string | null => readableValue(types.get(column), value);
  const record = (values: Record<string, string | null>): Record<string, string | null> =>
    Object.fromEntries(Object.entries(values).map(([column, value]) => [column, show(column, value)]));
  const readable: TableVerification = {
    ...t,
    // Only min and max are values of the column; counts and sums stay as they are.
    aggregates: t.aggregates.map((a) =>
      a.aggregate === 'min' || a.aggregate === 'max' ? { ...a, source: show(a.column, a.source), target: show(a.column, a.target) } : a,
    ),
    samples: t.samples.map((s) => ({ key: record(s.key), source: s.source && record(s.source), target: s.target && record(s.target) })),
  };
  if (t.rows) {
    readable.rows = {
      ...t.rows,
      differences: t.rows.differences.map((d) => ({
        ...d,
        key: record(d.key),
        columns: d.columns.map((c) => ({ ...c, source: show(c.column, c.source), target: show(c.column, c.target) })),
      })),
    };
  }
  return readable;
}

/** A canonical text of a column of Iceberg type `type` (as typeToString writes it) as people read it. */
export function readableValue(type: string | undefined, canonical: string | null): string | null {
  if (canonical === null || type === undefined || !/^-?[0-9a-fN]/.test(canonical)) return canonical;
  switch (type) {
    case 'date':
      return isInteger(canonical) ? isoDate(Number(canonical)) : canonical;
    case 'time':
      return isInteger(canonical) ? timeOfDay(BigInt(canonical)) : canonical;
    case 'timestamp':
    case 'timestamptz': {
      if (!isInteger(canonical)) return canonical;
      const micros = BigInt(canonical);
      const days = floorDiv(micros, MICROS_PER_DAY);
      return `${isoDate(Number(days))}T${timeOfDay(micros - days * MICROS_PER_DAY)}${type === 'timestamptz' ? 'Z' : ''}`;
    }
    case 'float':
    case 'double':
      return floatText(canonical, type === 'float');
    default:
      return canonical;
  }
}

function isInteger(text: string): boolean {
  return /^-?\d+$/.test(text);
}

/** Microseconds from midnight as HH:MM:SS.ffffff (24:00:00 kept: PostgreSQL's time allows it). */
function timeOfDay(micros: bigint): string {
  const seconds = micros / 1_000_000n;
  const fraction = String(micros % 1_000_000n).padStart(6, '0');
  return `${two(Number(seconds / 3600n))}:${two(Number((seconds / 60n) % 60n))}:${two(Number(seconds % 60n))}.${fraction}`;
}

function two(n: number): string {
  return String(n).padStart(2, '0');
}

const BITS = new DataView(new ArrayBuffer(8));

/** float4send / float8send hex as the number's shortest decimal (-0 and NaN as such). */
function floatText(canonical: string, single: boolean): string {
  if (canonical === 'NaN' || !/^[0-9a-f]+$/.test(canonical) || canonical.length !== (single ? 8 : 16)) return canonical;
  BITS.setBigUint64(0, BigInt(`0x${canonical}`) << (single ? 32n : 0n));
  const value = single ? BITS.getFloat32(0) : BITS.getFloat64(0);
  return Object.is(value, -0) ? '-0' : String(value);
}
