/**
 * How a value of each Iceberg type becomes a Weaviate property value, losslessly or not at all:
 *
 * | Iceberg type                   | Weaviate dataType | value sent                                              |
 * |--------------------------------|-------------------|---------------------------------------------------------|
 * | boolean                        | boolean           | as is                                                   |
 * | int                            | int               | as is                                                   |
 * | long                           | int               | within ±(2^53−1); beyond: refused (or `asText`: decimal) |
 * | float, double                  | number            | finite, not −0; else refused (or `asText`: `NaN`, `-0`)  |
 * | decimal(P,S)                   | text              | the exact decimal text (`12.30`)                        |
 * | date                           | date              | `YYYY-MM-DDT00:00:00Z`; years 0000–9999, else refused   |
 * | timestamp, timestamptz         | date              | RFC 3339 with microseconds, `Z` (timestamp: its wall time as UTC) |
 * | time                           | text              | `HH:MM:SS.ffffff`                                       |
 * | string                         | text              | as is                                                   |
 * | uuid                           | uuid              | as is                                                   |
 * | binary, fixed[L]               | blob              | base64                                                  |
 * | list of the above (scalar)     | T[]               | element by element; a null element is refused (or `asText`) |
 * | struct, map, other lists       | text              | the verifier's canonical JSON text of the value        |
 *
 * Weaviate's `int` is a JSON number, exact only up to 2^53: a larger long is never rounded. `asText` (per column,
 * in the class configuration) stores a column as text instead, exactly (`canonical-text.ts`'s form). A null is
 * an absent property. A refused value is a WeaviateValueError naming system, table, column, key and value.
 */
import { IcebridgeError } from '../errors';
import { type IcebergType, decimalParams, isPrimitive, primitiveKind } from '../iceberg/spec/types';
import { type Value, decimalToString } from '../iceberg/spec/values';
import { quotedText } from '../text/bounded-text';
import { canonicalValue } from '../verify/canonical/canonical-text';

/** The Weaviate data types the mapping produces. */
export type WeaviateDataType =
  'text' | 'int' | 'number' | 'boolean' | 'date' | 'uuid' | 'blob' | 'text[]' | 'int[]' | 'number[]' | 'boolean[]' | 'date[]' | 'uuid[]';

/** A JSON value sent as a property (undefined: the property is absent, for null). */
export type PropertyValue = string | number | boolean | string[] | number[] | boolean[] | undefined;

/** How one column is stored: its data type and the encoder of its values (throws ValueRefused). */
export interface PropertyEncoding {
  dataType: WeaviateDataType;
  encode(value: Value): PropertyValue;
}

/** A value the mapping cannot store exactly; the sink turns it into a WeaviateValueError with the row's names. */
export class ValueRefused extends Error {}

/** A value refused by the mapping, named by system, table, column, key and value (bounded). */
export class WeaviateValueError extends IcebridgeError {
  constructor(table: string, column: string, key: string, value: Value, reason: string) {
    super('WEAVIATE_VALUE_REFUSED', `weaviate: table ${table}, column ${column}, key ${quotedText(key)}: the value ${quotedText(shownValue(value))} ${reason}`);
  }
}

// Element kinds a Weaviate array holds exactly; lists of anything else are stored as text.
const ARRAY_KINDS = new Set(['boolean', 'int', 'long', 'float', 'double', 'date', 'timestamp', 'timestamptz', 'string', 'uuid']);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MICROS_PER_SECOND = 1_000_000n;

/** The encoding of a column of `type`; `asText` stores it as exact text whatever its type. */
export function propertyEncoding(type: IcebergType, asText = false): PropertyEncoding {
  if (asText) return { dataType: 'text', encode: (value) => (value === null ? undefined : exactText(type, value)) };
  if (isPrimitive(type)) {
    const scalar = scalarEncoding(type);
    return { dataType: scalar.dataType, encode: (value) => (value === null ? undefined : scalar.encode(value)) };
  }
  if (type.type === 'list' && isPrimitive(type.element)) {
    const element = scalarEncoding(type.element);
    if (ARRAY_KINDS.has(primitiveKind(type.element))) {
      return {
        dataType: `${element.dataType}[]` as WeaviateDataType,
        encode: (value) => {
          if (value === null) return undefined;
          if (!Array.isArray(value)) throw new ValueRefused('is not a list');
          return value.map((item) => {
            // Weaviate arrays hold no nulls: dropping one would change the list.
            if (item === null) throw new ValueRefused('holds a null element, which a Weaviate array cannot (store the column as text)');
            return element.encode(item);
          }) as string[] | number[] | boolean[];
        },
      };
    }
  }
  return { dataType: 'text', encode: (value) => (value === null ? undefined : exactText(type, value)) };
}

interface ScalarEncoding {
  dataType: WeaviateDataType;
  encode(value: Exclude<Value, null>): string | number | boolean;
}

function scalarEncoding(type: Extract<IcebergType, string>): ScalarEncoding {
  switch (primitiveKind(type)) {
    case 'boolean':
      return { dataType: 'boolean', encode: (v) => v as boolean };
    case 'int':
      return { dataType: 'int', encode: (v) => v as number };
    case 'long':
      return {
        dataType: 'int',
        encode: (v) => {
          const big = typeof v === 'number' ? BigInt(v) : (v as bigint);
          if (big > MAX_SAFE || big < -MAX_SAFE) {
            throw new ValueRefused("is beyond ±(2^53−1), which Weaviate's int (a JSON number) cannot hold exactly (store the column as text)");
          }
          return Number(big);
        },
      };
    case 'float':
    case 'double':
      return {
        dataType: 'number',
        encode: (v) => {
          const n = v as number;
          if (!Number.isFinite(n)) throw new ValueRefused('is not finite, which JSON cannot carry (store the column as text)');
          if (Object.is(n, -0)) throw new ValueRefused('is −0, which JSON carries as 0 (store the column as text)');
          return n;
        },
      };
    case 'date':
      return { dataType: 'date', encode: (v) => `${dayText(v as number)}T00:00:00Z` };
    case 'timestamp':
    case 'timestamptz':
      return { dataType: 'date', encode: (v) => timestampText(toBigint(v)) };
    case 'uuid':
      return { dataType: 'uuid', encode: (v) => v as string };
    case 'binary':
    case 'fixed':
      return { dataType: 'blob', encode: (v) => Buffer.from(v as Uint8Array).toString('base64') };
    case 'string':
      return { dataType: 'text', encode: (v) => v as string };
    default:
      return { dataType: 'text', encode: (v) => exactText(type, v) };
  }
}

/** The exact text of a value (decimal, time and nested values in the verifier's canonical form). */
function exactText(type: IcebergType, value: Exclude<Value, null>): string {
  if (isPrimitive(type)) {
    const kind = primitiveKind(type);
    if (kind === 'decimal') return decimalToString(toBigint(value), decimalParams(type)!.scale);
    if (kind === 'time') return timeText(toBigint(value));
    if (kind === 'float' || kind === 'double') return Object.is(value, -0) ? '-0' : String(value as number);
    if (kind === 'string' || kind === 'uuid') return value as string;
    if (kind === 'date') return dayText(value as number);
    if (kind === 'timestamp' || kind === 'timestamptz') return timestampText(toBigint(value));
    if (kind === 'long' || kind === 'int' || kind === 'boolean') return String(value as bigint | number | boolean);
  }
  return canonicalValue(type, value) ?? '';
}

function toBigint(value: Exclude<Value, null>): bigint {
  return typeof value === 'bigint' ? value : BigInt(value as number);
}

function dayText(days: number): string {
  const iso = new Date(days * 86_400_000).toISOString();
  if (!/^\d{4}-/.test(iso)) throw new ValueRefused("is outside the years 0000–9999 of RFC 3339, Weaviate's date");
  return iso.slice(0, 10);
}

function timestampText(micros: bigint): string {
  const seconds = micros >= 0n ? micros / MICROS_PER_SECOND : -((-micros + MICROS_PER_SECOND - 1n) / MICROS_PER_SECOND);
  const fraction = micros - seconds * MICROS_PER_SECOND;
  if (seconds > 253_402_300_799n || seconds < -62_167_219_200n) {
    throw new ValueRefused("is outside the years 0000–9999 of RFC 3339, Weaviate's date");
  }
  const iso = new Date(Number(seconds) * 1000).toISOString();
  return `${iso.slice(0, 19)}.${fraction.toString().padStart(6, '0')}Z`;
}

function timeText(micros: bigint): string {
  const total = Number(micros / MICROS_PER_SECOND);
  const fraction = (micros % MICROS_PER_SECOND).toString().padStart(6, '0');
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${pad(Math.floor(total / 3600))}:${pad(Math.floor(total / 60) % 60)}:${pad(total % 60)}.${fraction}`;
}

function shownValue(value: Value): string {
  if (value === null) return 'null';
  if (typeof value === 'bigint' || typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return `\\x${Buffer.from(value).toString('hex')}`;
  try {
    return (
      JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v instanceof Map ? [...(v as Map<unknown, unknown>)] : v)) ??
      typeof value
    );
  } catch {
    return typeof value;
  }
}
