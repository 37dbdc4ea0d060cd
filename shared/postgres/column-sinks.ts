/**
 * Field sinks: the columnar form of the binary decoders (binary-decoders.ts), for `readColumns`. A sink decodes
 * one field into its row of a column vector (shared/iceberg/spec/column-batch.ts): numbers into a Float64Array and
 * a uuid's 16 bytes into one byte array, so neither allocates per value; an array's elements into the batch's one
 * array of elements, with no array per row; every other kind stores what its decoder returns. Each number kind is
 * a sink of its own, so that its decoder is called from one place and inlined there. The values are the ones
 * `compileDecoder` gives with `exactBigInt` off: a number when it is a safe integer, otherwise (a bigint, a mapped
 * infinity) the vector's `others`.
 */
import {
  type ColumnVector,
  IN_ARRAY,
  type ListVector,
  NULL_FLAG,
  type NumberVector,
  OTHER,
  bytesVector,
  listVector,
  numberVector,
  valueVector,
} from '../iceberg/spec/column-batch';
import { type CompileDecoderOptions, compileDecoder, decodeDate, decodeDecimal, decodeTimestamp, readArrayElements, readInt64 } from './binary-decoders';
import type { DecodePlan } from './decode-plan';

/** Decodes the `len` bytes of one non-null field at `pos` into row `row` of `vector`. */
export type FieldSink = (buf: Buffer, pos: number, len: number, vector: ColumnVector, row: number) => void;

/** How one column is read into a batch: its vector, and the sink that fills it. */
export interface ColumnSink {
  vector(capacity: number): ColumnVector;
  sink: FieldSink;
}

const UUID_BYTES = 16;

/** The sink of a plan; `exactBigInt` is not an option here (bigints would defeat the number vectors). */
export function compileSink(plan: DecodePlan, options: Omit<CompileDecoderOptions, 'exactBigInt'> = {}): ColumnSink {
  const numbers = (sink: FieldSink): ColumnSink => ({ vector: numberVector, sink });
  switch (plan.kind) {
    case 'int2':
      return numbers((buf, pos, _len, vector, row) => setNumber(vector, row, buf.readInt16BE(pos)));
    case 'int4':
      return numbers((buf, pos, _len, vector, row) => setNumber(vector, row, buf.readInt32BE(pos)));
    case 'oid':
      return numbers((buf, pos, _len, vector, row) => setNumber(vector, row, buf.readUInt32BE(pos)));
    case 'int8':
      return numbers((buf, pos, _len, vector, row) => setNumeric(vector, row, readInt64(buf, pos)));
    case 'float4':
      return numbers((buf, pos, _len, vector, row) => setNumber(vector, row, buf.readFloatBE(pos)));
    case 'float8':
      return numbers((buf, pos, _len, vector, row) => setNumber(vector, row, buf.readDoubleBE(pos)));
    case 'date': {
      const infinity = plan.infinity;
      return numbers((buf, pos, _len, vector, row) => setNumber(vector, row, decodeDate(buf.readInt32BE(pos), infinity)));
    }
    case 'timestamp':
    case 'timestamptz': {
      const infinity = plan.infinity;
      const zone = plan.kind === 'timestamptz';
      return numbers((buf, pos, _len, vector, row) => setNumeric(vector, row, decodeTimestamp(buf, pos, infinity, zone, false)));
    }
    case 'decimal': {
      const { precision, scale, checked } = plan;
      return numbers((buf, pos, _len, vector, row) => setNumeric(vector, row, decodeDecimal(buf, pos, precision, scale, checked, false)));
    }
    case 'array': {
      const element = compileDecoder(plan.element, options);
      return {
        vector: listVector,
        sink: (buf, pos, _len, vector, row) => {
          const list = vector as ListVector;
          list.flags[row] = IN_ARRAY;
          list.starts[row] = list.elements.length;
          readArrayElements(buf, pos, element, list.elements);
          list.ends[row] = list.elements.length;
        },
      };
    }
    case 'uuid':
      if (options.uuidAsBytes === true) {
        return {
          vector: (capacity) => bytesVector(capacity, UUID_BYTES),
          sink: (buf, pos, _len, vector, row) => {
            const { flags, bytes } = vector as ReturnType<typeof bytesVector>;
            flags[row] = IN_ARRAY;
            const at = row * UUID_BYTES;
            for (let i = 0; i < UUID_BYTES; i++) bytes[at + i] = buf[pos + i]!;
          },
        };
      }
      break;
    default:
      break;
  }
  const decode = compileDecoder(plan, options);
  return {
    vector: valueVector,
    sink: (buf, pos, len, vector, row) => {
      (vector as ReturnType<typeof valueVector>).values[row] = decode(buf, pos, len);
    },
  };
}

/** Row `row` of `vector` is null. */
export function setNull(vector: ColumnVector, row: number): void {
  if (vector.kind === 'values') vector.values[row] = null;
  else vector.flags[row] = NULL_FLAG;
}

function setNumber(vector: ColumnVector, row: number, value: number): void {
  const numbers = vector as NumberVector;
  numbers.flags[row] = IN_ARRAY;
  numbers.numbers[row] = value;
}

function setNumeric(vector: ColumnVector, row: number, value: number | bigint): void {
  const numbers = vector as NumberVector;
  if (typeof value === 'number') {
    numbers.flags[row] = IN_ARRAY;
    numbers.numbers[row] = value;
  } else {
    numbers.flags[row] = OTHER;
    numbers.others[row] = value;
  }
}
