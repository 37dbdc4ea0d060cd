/**
 * Avro object container files (Avro specification, "Object Container Files"). We write them ourselves because
 * the header must carry our schema JSON exactly, `field-id` attributes included.
 */
import { randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { ValidationError } from '../../errors';
import type { AvroSchema } from './avro-schema';
import { AvroReader, AvroWriter, corruptAvro } from './binary';
import { type AvroDatum, createDatumCodec } from './datum';

/** Block compression codecs we write and read. */
export type AvroCodecName = 'null' | 'deflate';

/** Options of {@link writeContainer}. */
export interface WriteContainerOptions {
  /** Block compression; deflate unless told otherwise. */
  codec?: AvroCodecName;
  /** User metadata stored in the header; keys must not start with "avro.". */
  metadata?: Record<string, string>;
  /** The 16-byte sync marker; random unless given (tests pass one to get identical bytes). */
  syncMarker?: Uint8Array;
  /** Uncompressed bytes after which a block is closed. */
  blockSizeInBytes?: number;
}

/** The parsed header of a container file. */
export interface ContainerHeader {
  /** The writer schema from `avro.schema`, as its JSON. */
  schema: AvroSchema;
  codec: AvroCodecName;
  /** Every header entry decoded as UTF-8, `avro.schema` and `avro.codec` included. */
  metadata: Record<string, string>;
  syncMarker: Uint8Array;
  /** Offset of the first block. */
  dataOffset: number;
}

/** A whole container file decoded with its writer schema. */
export interface AvroContainer {
  header: ContainerHeader;
  records: AvroDatum[];
}

const MAGIC = Uint8Array.of(0x4f, 0x62, 0x6a, 0x01);
const SYNC_SIZE = 16;
/** Same order of magnitude as the Java writer's sync interval, so readers can split and stream. */
const DEFAULT_BLOCK_SIZE = 64 * 1024;

/** Encodes records into a complete container file. */
export function writeContainer(schema: AvroSchema, records: Iterable<unknown>, options: WriteContainerOptions = {}): Uint8Array {
  const codec = options.codec ?? 'deflate';
  if (codec !== 'null' && codec !== 'deflate') throw new ValidationError(`unsupported Avro codec ${JSON.stringify(codec)}`);
  const sync = options.syncMarker ?? randomBytes(SYNC_SIZE);
  if (sync.length !== SYNC_SIZE) throw new ValidationError(`an Avro sync marker has ${SYNC_SIZE} bytes, got ${sync.length}`);
  const blockSize = options.blockSizeInBytes ?? DEFAULT_BLOCK_SIZE;
  const datum = createDatumCodec(schema);

  const out = new AvroWriter(4096);
  out.writeFixed(MAGIC);
  const meta: [string, string][] = [
    ['avro.schema', JSON.stringify(schema)],
    ['avro.codec', codec],
  ];
  for (const [key, value] of Object.entries(options.metadata ?? {})) {
    if (key.startsWith('avro.')) throw new ValidationError(`metadata key ${JSON.stringify(key)} is reserved by Avro`);
    if (typeof value !== 'string') throw new ValidationError(`metadata value of ${JSON.stringify(key)} must be a string`);
    meta.push([key, value]);
  }
  out.writeLong(meta.length);
  for (const [key, value] of meta) {
    out.writeString(key);
    out.writeBytes(Buffer.from(value, 'utf8'));
  }
  out.writeLong(0);
  out.writeFixed(sync);

  const block = new AvroWriter(Math.min(blockSize, 1 << 20) + 1024);
  let count = 0;
  const flush = (): void => {
    const data = codec === 'deflate' ? deflateRawSync(block.view()) : block.view();
    out.writeLong(count);
    out.writeLong(data.length);
    out.writeFixed(data);
    out.writeFixed(sync);
    block.reset();
    count = 0;
  };
  for (const record of records) {
    datum.encode(block, record);
    count++;
    if (block.length >= blockSize) flush();
  }
  if (count > 0) flush();
  return out.toBytes();
}

/** Parses the header: magic, metadata map and sync marker. */
export function readContainerHeader(bytes: Uint8Array): ContainerHeader {
  if (bytes.length < MAGIC.length || MAGIC.some((b, i) => bytes[i] !== b)) throw corruptAvro('not an Avro object container file (bad magic)');
  const reader = new AvroReader(bytes, MAGIC.length);
  const metadata: Record<string, string> = {};
  for (let n = reader.readLongAsNumber(); n !== 0; n = reader.readLongAsNumber()) {
    if (n < 0) {
      reader.readLong();
      n = -n;
    }
    for (let i = 0; i < n; i++) {
      const key = reader.readString();
      metadata[key] = Buffer.from(reader.readBytes()).toString('utf8');
    }
  }
  const syncMarker = reader.readFixed(SYNC_SIZE);
  const schemaText = metadata['avro.schema'];
  if (schemaText === undefined) throw corruptAvro('the header has no avro.schema');
  let schema: AvroSchema;
  try {
    schema = JSON.parse(schemaText) as AvroSchema;
  } catch (error) {
    throw corruptAvro(`avro.schema is not JSON (${(error as Error).message})`);
  }
  const codec = metadata['avro.codec'] ?? 'null';
  if (codec !== 'null' && codec !== 'deflate') throw corruptAvro(`codec ${JSON.stringify(codec)} is not supported (null and deflate are)`);
  return { schema, codec, metadata, syncMarker, dataOffset: reader.pos };
}

/** Decodes every record of a container file with the writer schema from its header. */
export function readContainer(bytes: Uint8Array): AvroContainer {
  const header = readContainerHeader(bytes);
  const records: AvroDatum[] = [];
  for (const record of iterateContainer(bytes, header)) records.push(record);
  return { header, records };
}

/** Decodes records one block at a time, so a caller can stop early or fold without holding them all. */
export function* iterateContainer(bytes: Uint8Array, header: ContainerHeader = readContainerHeader(bytes)): Generator<AvroDatum> {
  const datum = createDatumCodec(header.schema);
  const reader = new AvroReader(bytes, header.dataOffset);
  while (!reader.atEnd) {
    const count = reader.readLongAsNumber();
    const size = reader.readLongAsNumber();
    if (count < 0 || size < 0) throw corruptAvro(`negative block count or size at offset ${reader.pos}`);
    const raw = reader.readView(size);
    const sync = reader.readView(SYNC_SIZE);
    if (!sync.every((b, i) => b === header.syncMarker[i])) throw corruptAvro(`sync marker mismatch at offset ${reader.pos - SYNC_SIZE}`);
    const data = header.codec === 'deflate' ? inflate(raw) : raw;
    const block = new AvroReader(data);
    for (let i = 0; i < count; i++) yield datum.decode(block);
    if (!block.atEnd) throw corruptAvro(`block of ${count} records has ${data.length - block.pos} trailing bytes`);
  }
}

function inflate(raw: Uint8Array): Uint8Array {
  try {
    return inflateRawSync(raw);
  } catch (error) {
    throw corruptAvro(`deflate block does not decompress (${(error as Error).message})`);
  }
}
