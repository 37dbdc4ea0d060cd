/**
 * Conversion of partition values between the in-memory Iceberg representation (spec/values.ts) and Avro datums,
 * driven by the Avro type and logical type of each field, so the same rules serve our writer schema and any
 * writer schema found in a file.
 */
import { quotedText } from '../../text/bounded-text';
import { ValidationError } from '../../errors';
import { decimalFromBytes, decimalToBytes, toTwosComplement } from '../spec/conversions';
import { type Value, decimalDigits, uuidFromBytes, uuidToBytes } from '../spec/values';
import { type AvroSchema, optionalBranch, resolveNamed } from './avro-schema';
import { corruptAvro } from './binary';
import type { AvroDatum } from './datum';

/** Converts one partition field's values in both directions. */
export interface PartitionValueConverter {
  /** The Avro datum to write for a value; throws ValidationError when the value does not fit the type. */
  toDatum(value: Value): AvroDatum;
  /** The Iceberg value of a decoded datum. */
  fromDatum(datum: AvroDatum): Value;
}

/** Builds the converter of a field whose Avro type is `schema`; `label` names the field in errors. */
export function partitionValueConverter(schema: AvroSchema, named: Map<string, AvroSchema>, label: string): PartitionValueConverter {
  const branch = optionalBranch(schema);
  const nullable = branch !== undefined;
  const inner = resolveNamed(branch ?? schema, named);
  const convert = primitiveConverter(inner, label);
  return {
    toDatum: (value) => {
      if (value === null || value === undefined) {
        if (!nullable) throw new ValidationError(`partition field ${label} is required but the value is null`);
        return null;
      }
      return convert.toDatum(value);
    },
    fromDatum: (datum) => (datum === null ? null : convert.fromDatum(datum)),
  };
}

function fail(label: string, expected: string, value: Value): ValidationError {
  const shown =
    typeof value === 'bigint'
      ? `${value}n`
      : value instanceof Uint8Array
        ? `${value.length} bytes`
        : typeof value === 'string'
          ? quotedText(value)
          : JSON.stringify(value);
  return new ValidationError(`partition field ${label}: expected ${expected}, got ${shown}`);
}

function primitiveConverter(schema: AvroSchema, label: string): PartitionValueConverter {
  if (typeof schema === 'string') return byType(schema, undefined, label);
  if (Array.isArray(schema)) throw corruptAvro(`partition field ${label} has a union type that is not [null, T]`);
  switch (schema.type) {
    case 'fixed':
      if (schema.logicalType === 'decimal') return decimal(schema.precision ?? 38, schema.size, label);
      if (schema.logicalType === 'uuid') return uuid(label);
      return bytes(schema.size, label);
    case 'record':
    case 'array':
    case 'map':
    case 'enum':
      throw corruptAvro(`partition field ${label} has non-primitive Avro type ${schema.type}`);
    default: {
      const logical = schema.logicalType;
      if (schema.type === 'bytes' && logical === 'decimal') {
        return decimal(schema.precision ?? 38, undefined, label);
      }
      return byType(schema.type, logical, label);
    }
  }
}

function byType(type: string, logical: string | undefined, label: string): PartitionValueConverter {
  switch (type) {
    case 'boolean':
      return {
        toDatum: (v) => {
          if (typeof v !== 'boolean') throw fail(label, 'boolean', v);
          return v;
        },
        fromDatum: (d) => d as boolean,
      };
    case 'int':
      return {
        toDatum: (v) => {
          if (typeof v !== 'number' || !Number.isInteger(v)) throw fail(label, logical === 'date' ? 'days as an integer' : 'int', v);
          return v;
        },
        fromDatum: (d) => d as number,
      };
    case 'long':
      return {
        toDatum: (v) => {
          if (typeof v === 'bigint') return v;
          if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
          throw fail(label, 'long (bigint)', v);
        },
        fromDatum: (d) => d as bigint,
      };
    case 'float':
    case 'double':
      return {
        toDatum: (v) => {
          if (typeof v !== 'number') throw fail(label, type, v);
          return v;
        },
        fromDatum: (d) => d as number,
      };
    case 'string':
      return {
        toDatum: (v) => {
          if (typeof v !== 'string') throw fail(label, 'string', v);
          return v;
        },
        fromDatum: (d) => (logical === 'uuid' ? (d as string).toLowerCase() : (d as string)),
      };
    case 'bytes':
      return bytes(undefined, label);
    default:
      throw corruptAvro(`partition field ${label} has unsupported Avro type ${type}`);
  }
}

function bytes(size: number | undefined, label: string): PartitionValueConverter {
  return {
    toDatum: (v) => {
      if (!(v instanceof Uint8Array) || (size !== undefined && v.length !== size)) {
        throw fail(label, size === undefined ? 'binary' : `fixed[${size}]`, v);
      }
      return v;
    },
    fromDatum: (d) => d as Uint8Array,
  };
}

function uuid(label: string): PartitionValueConverter {
  return {
    toDatum: (v) => {
      if (typeof v !== 'string') throw fail(label, 'uuid string', v);
      try {
        return uuidToBytes(v);
      } catch {
        throw fail(label, 'uuid string', v);
      }
    },
    fromDatum: (d) => uuidFromBytes(d as Uint8Array),
  };
}

function decimal(precision: number, size: number | undefined, label: string): PartitionValueConverter {
  return {
    toDatum: (v) => {
      const unscaled = typeof v === 'bigint' ? v : typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : undefined;
      if (unscaled === undefined) throw fail(label, 'unscaled decimal (bigint)', v);
      if (decimalDigits(unscaled) > precision) throw fail(label, `at most ${precision} digits`, v);
      return size === undefined ? decimalToBytes(unscaled) : toTwosComplement(unscaled, size);
    },
    fromDatum: (d) => decimalFromBytes(d as Uint8Array),
  };
}
