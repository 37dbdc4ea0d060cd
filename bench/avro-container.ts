/**
 * Our Avro object container code against avsc's BlockEncoder and BlockDecoder (docs/avro.md): the same Iceberg
 * manifest and manifest list written and read back both ways, timed, then the bytes compared where Iceberg readers
 * look: the `avro.schema` JSON with its ids, the Iceberg header keys, the sync marker, the blocks.
 *
 *   npx tsx bench/avro-container.ts [--entries 10000,100000] [--manifests 1000,10000] [--runs R]
 */
import { createRequire } from 'node:module';
import * as os from 'node:os';
import { performance } from 'node:perf_hooks';
import { isDeepStrictEqual } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as avsc from 'avsc';
import { AvroReader } from '../shared/iceberg/avro/binary';
import { readContainer, readContainerHeader } from '../shared/iceberg/avro/container';
import { allIds, avscDecode, avscType, missingIds, plain } from '../test/iceberg/avro/avsc-judge';
import { type Case, type Longs, listCase, manifestCase } from './lib/avro-cases';
import { collectGarbage, median } from './lib/measure';

/** Our writer's block size (64 KiB, as avsc's default), given to avsc explicitly. */
const BLOCK_SIZE = 64 * 1024;

// collectGarbage needs a global gc(); this exposes one without asking every caller for --expose-gc.
setFlagsFromString('--expose-gc');
(globalThis as { gc?: unknown }).gc ??= runInNewContext('gc');

/** Parses `--entries N,M`, `--manifests N,M` and `--runs R` (also as `--flag=value`). */
function parseArgs(argv: string[]): { entries: number[]; manifests: number[]; runs: number } {
  const options = { entries: [10_000, 100_000], manifests: [1_000, 10_000], runs: 5 };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split('=', 2) as [string, string | undefined];
    if (flag !== '--entries' && flag !== '--manifests' && flag !== '--runs') {
      throw new Error(`unknown argument ${flag}\nusage: tsx bench/avro-container.ts [--entries N,M] [--manifests N,M] [--runs R]`);
    }
    const text = inline ?? argv[++i];
    const values = String(text).split(',').map(Number);
    if (values.some((v) => !Number.isSafeInteger(v) || v <= 0)) throw new Error(`${flag} needs positive integers, got ${String(text)}`);
    if (flag === '--entries') options.entries = values;
    else if (flag === '--manifests') options.manifests = values;
    else options.runs = values[0]!;
  }
  return options;
}

/**
 * avsc's two public ways in: raw schema JSON (the header keeps it, longs are JS numbers) or a Type with bigint longs
 * (the header is re-serialised from the Type). The third writes raw JSON with a bigint Type swapped into a private
 * field: the only way found to get both, shown for its speed, not as something to depend on.
 */
type AvscMode = 'avsc-json' | 'avsc-type' | 'avsc-internal';
const AVSC_WRITERS: AvscMode[] = ['avsc-json', 'avsc-type', 'avsc-internal'];
const AVSC_READERS: AvscMode[] = ['avsc-json', 'avsc-type'];
const LONGS: Record<AvscMode, Longs> = { 'avsc-json': 'number', 'avsc-type': 'bigint', 'avsc-internal': 'bigint' };

function avscWrite(c: Case, mode: AvscMode, syncMarker?: Buffer): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const metadata = Object.fromEntries(Object.entries(c.metadata).map(([k, v]) => [k, Buffer.from(v, 'utf8')]));
    // `metadata` is a BlockEncoder option avsc's typings leave out.
    const options = { codec: 'deflate', blockSize: BLOCK_SIZE, metadata, ...(syncMarker ? { syncMarker } : {}) } as Partial<avsc.EncoderOptions>;
    const encoder = new avsc.streams.BlockEncoder(mode === 'avsc-type' ? avscType(c.schema) : (c.schema as avsc.Schema), options);
    if (mode === 'avsc-internal') (encoder as unknown as { _type: avsc.Type })._type = avscType(c.schema);
    const chunks: Buffer[] = [];
    encoder.on('data', (chunk: Buffer) => chunks.push(chunk));
    encoder.on('error', reject);
    encoder.on('end', () => resolve(new Uint8Array(Buffer.concat(chunks))));
    for (const record of c.records(LONGS[mode])) encoder.write(record);
    encoder.end();
  });
}

function avscRead(bytes: Uint8Array, mode: AvscMode): Promise<number> {
  return new Promise((resolve, reject) => {
    const decoder = new avsc.streams.BlockDecoder(mode === 'avsc-type' ? { parseHook: (schema) => avscType(schema) } : {});
    let count = 0;
    decoder.on('data', () => count++);
    decoder.on('error', reject);
    decoder.on('end', () => resolve(count));
    decoder.end(Buffer.from(bytes));
  });
}

/** Median wall and CPU time of a candidate's runs, or its error. */
interface Timing {
  wallMs: number;
  cpuMs: number;
  bytes: number;
  error?: string;
}

/**
 * Times candidates round-robin (run 1 of each, then run 2 of each, ...) with a warm-up round first, so a change of
 * load on the shared machine hits every candidate alike. A candidate that throws is reported with its error.
 */
async function timeAll(runs: number, fns: (() => Promise<number>)[]): Promise<Timing[]> {
  const samples = fns.map(() => ({ walls: [] as number[], cpus: [] as number[], bytes: 0, error: undefined as string | undefined }));
  for (let round = 0; round <= runs; round++) {
    for (const [i, fn] of fns.entries()) {
      const sample = samples[i]!;
      if (sample.error !== undefined) continue;
      // Each run starts from a settled heap, so none pays for the garbage of the one before.
      collectGarbage();
      const cpu = process.cpuUsage();
      const start = performance.now();
      try {
        sample.bytes = await fn();
      } catch (error) {
        sample.error = error instanceof Error ? error.message : String(error);
        continue;
      }
      const wall = performance.now() - start;
      const used = process.cpuUsage(cpu);
      if (round > 0) {
        sample.walls.push(wall);
        sample.cpus.push((used.user + used.system) / 1000);
      }
    }
  }
  return samples.map((s) =>
    s.error !== undefined ? { wallMs: NaN, cpuMs: NaN, bytes: 0, error: s.error } : { wallMs: median(s.walls), cpuMs: median(s.cpus), bytes: s.bytes },
  );
}

function row(what: string, t: Timing, mbOf: number): string {
  if (t.error) return `| ${what} | fails: ${t.error.split('\n')[0]!.slice(0, 90)} | | | |`;
  const mb = mbOf / 1e6;
  return `| ${what} | ${t.wallMs.toFixed(1)} | ${t.cpuMs.toFixed(0)} | ${(mb / (t.wallMs / 1000)).toFixed(1)} | ${t.bytes.toLocaleString('en-US')} |`;
}

async function speed(c: Case, runs: number): Promise<void> {
  console.log(`\n### ${c.label}\n`);
  console.log('| write / read | median ms | CPU ms | MB/s | file bytes |');
  console.log('|---|---|---|---|---|');
  const ours = c.ours();
  const writes: [string, () => Promise<number>][] = [
    ['write: icebridge (product call, record building included)', () => Promise.resolve(c.ours().length)],
    ...AVSC_WRITERS.map((m): [string, () => Promise<number>] => [`write: ${m} BlockEncoder (prepared records)`, async () => (await avscWrite(c, m)).length]),
  ];
  c.records('number');
  c.records('bigint');
  const written = await timeAll(runs, [...writes.map(([, fn]) => fn), () => Promise.resolve(c.prepare('bigint').length)]);
  writes.forEach(([what], i) => console.log(row(what, written[i]!, ours.length)));
  const prep = written[writes.length]!;
  console.log(
    `| (building the bigint records avsc-type and avsc-internal take, NOT in their write rows) | ${prep.wallMs.toFixed(1)} | ${prep.cpuMs.toFixed(0)} | | |`,
  );
  const reads: [string, () => Promise<number>][] = [
    ['read: icebridge readContainer (datums)', () => Promise.resolve(readContainer(ours).records.length)],
    ['read: icebridge product reader (domain objects)', () => Promise.resolve((c.readDomain(ours) as unknown[]).length)],
    ...AVSC_READERS.map((m): [string, () => Promise<number>] => [`read: ${m} BlockDecoder (records)`, () => avscRead(ours, m)]),
  ];
  const read = await timeAll(
    runs,
    reads.map(([, fn]) => fn),
  );
  reads.forEach(([what], i) => {
    const t = read[i]!;
    if (!t.error && t.bytes !== c.count) t.error = `read ${t.bytes} records, wrote ${c.count}`;
    // For reads the byte column is the file read; MB/s is of that file.
    console.log(row(what, { ...t, bytes: ours.length }, ours.length));
  });
}

/** Block layout of a container: records and compressed size per block. */
function blocks(bytes: Uint8Array): { count: number; size: number }[] {
  const header = readContainerHeader(bytes);
  const reader = new AvroReader(bytes, header.dataOffset);
  const out: { count: number; size: number }[] = [];
  while (!reader.atEnd) {
    const count = reader.readLongAsNumber();
    const size = reader.readLongAsNumber();
    reader.readView(size + 16);
    out.push({ count, size });
  }
  return out;
}

/** Attributes of our schema JSON that the other lacks, as paths ("$.data_file.lower_bounds: logicalType"). */
function droppedAttributes(ours: unknown, theirs: unknown, path = '$'): string[] {
  if (typeof ours !== 'object' || ours === null) return [];
  if (Array.isArray(ours)) {
    return ours.flatMap((v, i) => droppedAttributes(v, Array.isArray(theirs) ? theirs[i] : undefined, `${path}|${i}`));
  }
  // A bare name such as "int" is the object form {type: "int"} without its attributes.
  const other = (typeof theirs === 'string' ? { type: theirs } : typeof theirs === 'object' && theirs !== null ? theirs : {}) as Record<string, unknown>;
  const out: string[] = [];
  for (const [key, value] of Object.entries(ours)) {
    if (!(key in other)) out.push(`${path}: ${key}`);
    else if (key === 'fields' && Array.isArray(value)) {
      value.forEach((f: { name: string }, i) => out.push(...droppedAttributes(f, (other.fields as unknown[])[i], `${path}.${f.name}`)));
    } else out.push(...droppedAttributes(value, other[key], key === 'type' ? path : `${path}.${key}`));
  }
  return out;
}

async function compare(c: Case): Promise<void> {
  console.log(`\n### Header and bytes: ${c.label} (same sync marker, deflate, 64 KiB blocks)\n`);
  const ours = c.ours();
  const ourHeader = readContainerHeader(ours);
  const sync = Buffer.from(ourHeader.syncMarker);
  const ourBlocks = blocks(ours);
  const decodedOurs = c.readDomain(ours);
  console.log(
    `icebridge: ${ours.length.toLocaleString('en-US')} bytes, header ${ourHeader.dataOffset} bytes, ` +
      `${ourBlocks.length} blocks (records ${ourBlocks
        .slice(0, 3)
        .map((b) => b.count)
        .join(', ')}, ...), ` +
      `avro.schema ids: ${allIds(ourHeader.schema).length}, places lacking one: ${missingIds(ourHeader.schema).length}`,
  );
  if (c.dumpSchema) console.log(`  avro.schema: ${ourHeader.metadata['avro.schema']}`);
  for (const mode of AVSC_WRITERS) {
    let theirs: Uint8Array;
    try {
      theirs = await avscWrite(c, mode, sync);
    } catch (error) {
      console.log(`${mode}: cannot write this file: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
      continue;
    }
    const header = readContainerHeader(theirs);
    const theirBlocks = blocks(theirs);
    const dropped = droppedAttributes(ourHeader.schema, header.schema);
    const keys = Object.keys(c.metadata);
    const sameMeta = keys.every((k) => Buffer.from(header.metadata[k] ?? '', 'utf8').equals(Buffer.from(c.metadata[k]!, 'utf8')));
    const firstDiff = ourBlocks.findIndex((b, i) => b.count !== theirBlocks[i]?.count || b.size !== theirBlocks[i]?.size);
    let ourReadOfTheirs: string;
    try {
      ourReadOfTheirs = isDeepStrictEqual(c.readDomain(theirs), decodedOurs) ? 'equal to ours' : 'DIFFERENT';
    } catch (error) {
      ourReadOfTheirs = `fails: ${error instanceof Error ? error.message : String(error)}`;
    }
    console.log(
      `${mode}: ${theirs.length.toLocaleString('en-US')} bytes, file identical: ${Buffer.from(theirs).equals(Buffer.from(ours))}, ` +
        `header identical: ${Buffer.from(theirs.subarray(0, header.dataOffset)).equals(Buffer.from(ours.subarray(0, ourHeader.dataOffset)))}`,
    );
    const sameSchema = header.metadata['avro.schema'] === ourHeader.metadata['avro.schema'];
    console.log(
      `  avro.schema identical: ${sameSchema}; ` +
        `ids kept: ${allIds(header.schema).length} of ${allIds(ourHeader.schema).length}; attributes dropped: ${dropped.length}` +
        (dropped.length > 0
          ? ` (${[...new Set(dropped.map((d) => d.slice(d.lastIndexOf(' ') + 1)))].join(', ')}; e.g. ${dropped.slice(0, 3).join('; ')})`
          : ''),
    );
    console.log(`  Iceberg keys ${keys.join(', ')} byte-identical: ${sameMeta}; header key order: ${Object.keys(header.metadata).join(', ')}`);
    console.log(
      `  sync marker as given: ${Buffer.from(header.syncMarker).equals(sync)}; ${theirBlocks.length} blocks ` +
        `(records ${theirBlocks
          .slice(0, 3)
          .map((b) => b.count)
          .join(', ')}, ...); first block that differs from ours: ${firstDiff < 0 ? 'none' : firstDiff}`,
    );
    console.log(`  our product reader on avsc's file: ${ourReadOfTheirs}`);
    if (c.dumpSchema && !sameSchema) console.log(`  avro.schema: ${header.metadata['avro.schema']}`);
  }
  try {
    const judged = await avscDecode(ours);
    const expected = c.records('bigint').map(plain);
    console.log(
      `avsc BlockDecoder (bigint longs) on our file: codec ${judged.codec}, records ${isDeepStrictEqual(judged.records, expected) ? 'equal to the input' : 'DIFFERENT'}, ` +
        `Iceberg keys ${Object.keys(c.metadata).every((k) => judged.meta[k] === c.metadata[k]) ? 'all present and equal' : 'DIFFERENT'}`,
    );
  } catch (error) {
    console.log(`avsc BlockDecoder on our file fails: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** The schema header as avsc writes it from a Type, shortened, next to ours: what "dropped" means concretely. */
function headerDump(c: Case): void {
  const ours = JSON.stringify(c.schema);
  const fromType = JSON.stringify(avscType(c.schema).schema({ exportAttrs: true }));
  const at = (json: string) => json.slice(json.indexOf('"lower_bounds"') - 1, json.indexOf('"lower_bounds"') + 200);
  console.log('\n### avro.schema excerpt (lower_bounds field)\n');
  console.log(`icebridge / avsc-json: ${at(ours)}...`);
  console.log(`avsc-type:             ${at(fromType)}...`);
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const avscVersion = (createRequire(__filename)('avsc/package.json') as { version: string }).version;
  console.log(
    `Avro containers: icebridge vs avsc ${avscVersion}; ` +
      `median of ${options.runs} runs after a warm-up, node ${process.version}, ${os.cpus().length} CPUs, load average ${os.loadavg()[0]!.toFixed(2)}`,
  );
  console.log(
    "Codec deflate for all (the product writes deflate); MB/s is of our file's size; CPU ms counts every thread " +
      '(avsc deflates on the libuv pool). "prepared records": avsc is given records already in its input form (Buffers, arrays of key/value).',
  );
  // One case alive at a time: a 100,000-entry manifest and avsc's copy of it are a large heap on their own.
  const cases = [...options.entries.map((n) => () => manifestCase(n)), ...options.manifests.map((n) => () => listCase(n))];
  const compared = new Set([0, options.entries.length]);
  for (const [i, make] of cases.entries()) {
    const c = make();
    await speed(c, options.runs);
    if (i === 0) headerDump(c);
    if (compared.has(i)) await compare(c);
  }
  console.log(`\nFinished at load average ${os.loadavg()[0]!.toFixed(2)}; compare medians, not single runs.`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
