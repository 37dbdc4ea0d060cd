/**
 * Schema-driven encoding and decoding of one Avro datum. A schema is compiled once into closures, so a
 * manifest with thousands of entries walks the schema tree only once.
 *
 * In memory: records are plain objects keyed by Avro field name, int/float/double are numbers, long is
 * bigint (numbers accepted when writing), bytes and fixed are Uint8Array, arrays are arrays, Avro maps are
 * Map<string, datum>, enums are their symbol, and a union is its branch's value (null for the null branch).
 */
import { quotedText } from '../../text/bounded-text';
import { ValidationError } from '../../errors';
import type { AvroField, AvroSchema } from './avro-schema';
import { AvroReader, AvroWriter, corruptAvro } from './binary';

/** A decoded Avro value. */
export type AvroDatum = null | boolean | number | bigint | string | Uint8Array | AvroDatum[] | Map<string, AvroDatum> | AvroRecord;

/** A decoded Avro record: field name to value. */
export interface AvroRecord {
  [field: string]: AvroDatum;
}

/** Encoder and decoder of one compiled schema. */
export interface DatumCodec {
  /** Appends `value` in Avro binary; throws ValidationError naming the path when it does not fit the schema. */
  encode(writer: AvroWriter, value: unknown): void;
  /** Reads one value. */
  decode(reader: AvroReader): AvroDatum;
}

type Encode = (writer: AvroWriter, value: unknown, path: string) => void;
type Decode = (reader: AvroReader) => AvroDatum;
interface Node {
  encode: Encode;
  decode: Decode;
}

/** Compiles a schema; named types are resolved by full name (namespaces apply as the Avro spec says). */
export function createDatumCodec(schema: AvroSchema): DatumCodec {
  const root = new Compiler().compile(schema, '');
  return {
    encode: (writer, value) => root.encode(writer, value, '$'),
    decode: (reader) => root.decode(reader),
  };
}

const MIN_LONG = -(1n << 63n);
const MAX_LONG = (1n << 63n) - 1n;

const PRIMITIVES: Record<string, Node> = {
  null: {
    encode: (_w, v, path) => {
      if (v !== null && v !== undefined) throw mismatch(path, 'null', v);
    },
    decode: () => null,
  },
  boolean: {
    encode: (w, v, path) => {
      if (typeof v !== 'boolean') throw mismatch(path, 'boolean', v);
      w.writeBoolean(v);
    },
    decode: (r) => r.readBoolean(),
  },
  int: {
    encode: (w, v, path) => {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) throw mismatch(path, 'int', v);
      w.writeInt(v);
    },
    decode: (r) => r.readInt(),
  },
  long: {
    encode: (w, v, path) => {
      if (typeof v === 'bigint' ? v < MIN_LONG || v > MAX_LONG : !Number.isSafeInteger(v)) throw mismatch(path, 'long', v);
      w.writeLong(v as bigint | number);
    },
    decode: (r) => r.readLong(),
  },
  float: {
    encode: (w, v, path) => {
      if (typeof v !== 'number') throw mismatch(path, 'float', v);
      w.writeFloat(v);
    },
    decode: (r) => r.readFloat(),
  },
  double: {
    encode: (w, v, path) => {
      if (typeof v !== 'number') throw mismatch(path, 'double', v);
      w.writeDouble(v);
    },
    decode: (r) => r.readDouble(),
  },
  bytes: {
    encode: (w, v, path) => {
      if (!(v instanceof Uint8Array)) throw mismatch(path, 'bytes', v);
      w.writeBytes(v);
    },
    decode: (r) => r.readBytes(),
  },
  string: {
    encode: (w, v, path) => {
      if (typeof v !== 'string') throw mismatch(path, 'string', v);
      w.writeString(v);
    },
    decode: (r) => r.readString(),
  },
};

function mismatch(path: string, expected: string, value: unknown): ValidationError {
  const shown =
    typeof value === 'bigint' ? `${value}n` : value instanceof Uint8Array ? 'bytes' : typeof value === 'string' ? quotedText(value) : JSON.stringify(value);
  return new ValidationError(`${path}: expected ${expected}, got ${shown ?? String(value)}`);
}

class Compiler {
  private readonly named = new Map<string, Node>();

  compile(schema: AvroSchema, namespace: string): Node {
    if (typeof schema === 'string') return PRIMITIVES[schema] ?? this.lookup(schema, namespace);
    if (Array.isArray(schema)) return this.union(schema, namespace);
    switch (schema.type) {
      case 'record':
        return this.record(schema.name, schema.namespace, schema.fields, namespace);
      case 'array':
        return this.array(this.compile(schema.items, namespace));
      case 'map':
        return this.map(this.compile(schema.values, namespace));
      case 'fixed':
        return this.define(schema.name, schema.namespace, namespace, fixed(schema.size));
      case 'enum':
        return this.define(schema.name, schema.namespace, namespace, enumeration(schema.symbols));
      default: {
        const node = PRIMITIVES[(schema as { type: string }).type];
        if (!node) throw new ValidationError(`unsupported Avro type ${JSON.stringify((schema as { type: unknown }).type)}`);
        return node;
      }
    }
  }

  private fullName(name: string, own: string | undefined, enclosing: string): { full: string; namespace: string } {
    if (name.includes('.')) return { full: name, namespace: name.slice(0, name.lastIndexOf('.')) };
    const namespace = own ?? enclosing;
    return { full: namespace ? `${namespace}.${name}` : name, namespace };
  }

  private lookup(name: string, namespace: string): Node {
    const node = (namespace && !name.includes('.') ? this.named.get(`${namespace}.${name}`) : undefined) ?? this.named.get(name);
    if (!node) throw new ValidationError(`unknown Avro type ${JSON.stringify(name)}`);
    return node;
  }

  private define(name: string, own: string | undefined, enclosing: string, node: Node): Node {
    const { full } = this.fullName(name, own, enclosing);
    if (this.named.has(full)) throw new ValidationError(`Avro type ${full} is defined twice`);
    this.named.set(full, node);
    return node;
  }

  private record(name: string, own: string | undefined, fields: AvroField[], enclosing: string): Node {
    // Registered before its fields compile, so a field may refer back to the record itself.
    const node: Node = { encode: () => undefined, decode: () => null };
    const { namespace } = this.fullName(name, own, enclosing);
    this.define(name, own, enclosing, node);
    const names = fields.map((f) => f.name);
    const nodes = fields.map((f) => this.compile(f.type, namespace));
    const count = names.length;
    node.encode = (w, v, path) => {
      if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) {
        throw mismatch(path, `record ${name}`, v);
      }
      const obj = v as Record<string, unknown>;
      for (let i = 0; i < count; i++) nodes[i]!.encode(w, obj[names[i]!], `${path}.${names[i]}`);
    };
    node.decode = (r) => {
      const out: AvroRecord = {};
      for (let i = 0; i < count; i++) out[names[i]!] = nodes[i]!.decode(r);
      return out;
    };
    return node;
  }

  private array(items: Node): Node {
    return {
      encode: (w, v, path) => {
        if (!Array.isArray(v)) throw mismatch(path, 'array', v);
        if (v.length > 0) {
          w.writeLong(v.length);
          for (let i = 0; i < v.length; i++) items.encode(w, v[i], `${path}[${i}]`);
        }
        w.writeLong(0);
      },
      decode: (r) => {
        const out: AvroDatum[] = [];
        for (let n = readBlockCount(r); n > 0; n = readBlockCount(r)) {
          for (let i = 0; i < n; i++) out.push(items.decode(r));
        }
        return out;
      },
    };
  }

  private map(values: Node): Node {
    return {
      encode: (w, v, path) => {
        const entries = v instanceof Map ? [...v.entries()] : typeof v === 'object' && v !== null && !Array.isArray(v) ? Object.entries(v) : undefined;
        if (!entries) throw mismatch(path, 'map', v);
        if (entries.length > 0) {
          w.writeLong(entries.length);
          for (const [key, value] of entries) {
            if (typeof key !== 'string') throw mismatch(`${path} key`, 'string', key);
            w.writeString(key);
            values.encode(w, value, `${path}[${JSON.stringify(key)}]`);
          }
        }
        w.writeLong(0);
      },
      decode: (r) => {
        const out = new Map<string, AvroDatum>();
        for (let n = readBlockCount(r); n > 0; n = readBlockCount(r)) {
          for (let i = 0; i < n; i++) {
            const key = r.readString();
            out.set(key, values.decode(r));
          }
        }
        return out;
      },
    };
  }

  private union(branches: AvroSchema[], namespace: string): Node {
    const nodes = branches.map((b) => this.compile(b, namespace));
    const nullIndex = branches.findIndex((b) => b === 'null' || (typeof b === 'object' && !Array.isArray(b) && b.type === 'null'));
    const valueIndexes = nodes.map((_, i) => i).filter((i) => i !== nullIndex);
    const encode: Encode = (w, v, path) => {
      if (v === null || v === undefined) {
        if (nullIndex < 0) throw mismatch(path, 'a non-null value', v);
        w.writeInt(nullIndex);
        return;
      }
      // Only [null, T] unions are written; a wider union would need a rule to pick the branch.
      if (valueIndexes.length !== 1) throw new ValidationError(`${path}: cannot write a union of ${valueIndexes.length} non-null types`);
      w.writeInt(valueIndexes[0]!);
      nodes[valueIndexes[0]!]!.encode(w, v, path);
    };
    return {
      encode,
      decode: (r) => {
        const index = r.readInt();
        const node = nodes[index];
        if (!node) throw corruptAvro(`union branch ${index} of ${nodes.length} at offset ${r.pos}`);
        return node.decode(r);
      },
    };
  }
}

function fixed(size: number): Node {
  return {
    encode: (w, v, path) => {
      if (!(v instanceof Uint8Array) || v.length !== size) throw mismatch(path, `fixed of ${size} bytes`, v);
      w.writeFixed(v);
    },
    decode: (r) => r.readFixed(size),
  };
}

function enumeration(symbols: string[]): Node {
  return {
    encode: (w, v, path) => {
      const index = typeof v === 'string' ? symbols.indexOf(v) : -1;
      if (index < 0) throw mismatch(path, `one of ${symbols.join(', ')}`, v);
      w.writeInt(index);
    },
    decode: (r) => {
      const index = r.readInt();
      const symbol = symbols[index];
      if (symbol === undefined) throw corruptAvro(`enum index ${index} of ${symbols.length} at offset ${r.pos}`);
      return symbol;
    },
  };
}

/** Item count of the next array or map block; a negative count is followed by the block's byte size. */
function readBlockCount(r: AvroReader): number {
  const count = r.readLongAsNumber();
  if (count >= 0) return count;
  r.readLong();
  return -count;
}
