/**
 * Streams the rows of one table, leaf, page range or key range with `COPY (...) TO STDOUT (FORMAT binary)` and
 * decodes them into Row batches. The consumer's pace drives the socket: at most a couple of batches are
 * decoded ahead, then the stream is paused, so memory stays bounded whatever the table size.
 */
import type { Client } from 'pg';
import { InternedText } from '../iceberg/parquet/interned-text';
import { boundedText, quotedText } from '../text/bounded-text';
import { IcebridgeError, ValidationError } from '../errors';
import { type ColumnBatch, emptied } from '../iceberg/spec/column-batch';
import { type Row, type Value, uuidFromBytes } from '../iceberg/spec/values';
import { type CompileDecoderOptions, type FieldDecoder, compileDecoder } from './binary-decoders';
import { compileSink } from './column-sinks';
import { clientTarget } from './connection';
import { CopyBinaryParser, RowDecodeFailure } from './copy-binary-parser';
import { CopyOutQuery } from './copy-out-query';
import { quoteIdent, quoteQualified, displayIdent, displayQualified } from './identifiers';
import { toPostgresError } from './postgres-errors';
import { sendCancelRequest } from './cancel-request';
import type { SourceTable } from './source-table';
import { TEXT_OUTPUT_SETTINGS } from './session-settings';
import { renderForComparison } from './text-rendering';
import type { TableMapping } from './type-mapping';

/** Heap pages [fromPage, toPage) of one ordinary table or leaf; toPage null reads to the end. */
export interface PageRange {
  fromPage: number;
  toPage: number | null;
}

/** Rows whose key is >= lower and < upper (row comparison), bounds given as PostgreSQL text of each key column. */
export interface KeyRange {
  columns: string[];
  lower?: string[];
  upper?: string[];
}

/** Options of `readRows`. */
export interface ReadRowsOptions {
  /** The relation to read: the table (default; every leaf when partitioned) or one of its leaves. */
  relation?: { schema: string; name: string };
  /** Only these heap pages (an ordinary table or a leaf, not a partitioned table). */
  pages?: PageRange;
  /** Only this key range; the bounds travel as query parameters, never as SQL. */
  keyRange?: KeyRange;
  /** Columns that identify a row in error messages; defaults to the table's key. */
  keyColumns?: readonly string[];
  /** Rows per batch (a batch can exceed it by the rows of one network chunk); defaults to 2048. */
  batchSize?: number;
  /** Always return bigint for long, time, timestamp and decimal values (see binary-decoders.ts). */
  exactBigInt?: boolean;
  /**
   * uuid values as 16-byte Uint8Arrays instead of text, for rows handed straight to the Parquet writer (see
   * binary-decoders.ts). Partition transforms and value comparisons need the text form: leave it off for them.
   */
  uuidAsBytes?: boolean;
  /**
   * Repeated text and jsonb values as InternedText entries, for rows handed straight to the Parquet writer (see
   * binary-decoders.ts). Partition transforms and value comparisons need strings: leave it off for them.
   */
  textAsBytes?: boolean;
  abortSignal?: AbortSignal;
}

/** Error code of a value the Iceberg type cannot hold exactly; not retryable. */
export const UNREPRESENTABLE_VALUE = 'UNREPRESENTABLE_VALUE';

const MAX_READY_BATCHES = 2;
const CANCEL_GRACE_IN_MS = 30_000;

/**
 * Reads rows as batches in the mapping's column order. Must run inside a REPEATABLE READ transaction (see
 * `withSnapshotTransaction`). Stopping early cancels the COPY, which aborts that transaction.
 */
export function readRows(client: Client, table: SourceTable, mapping: TableMapping, options: ReadRowsOptions = {}): AsyncGenerator<Row[]> {
  const batchSize = options.batchSize ?? 2048;
  return streamCopy(client, table, mapping, options, (keyIndexes) => {
    const decoderOpts = decoderOptions(options);
    const decoders = mapping.columns.map((c) => compileDecoder(c.decode, decoderOpts));
    const parser = new CopyBinaryParser(decoders, keyIndexes);
    let batch: Row[] = [];
    return {
      parser,
      push: (buf, start, end, ready) => {
        parser.push(buf, batch, start, end);
        // One network chunk can hold many small rows: cut exact batches so a batch stays near batchSize.
        while (batch.length >= batchSize) {
          if (batch.length > batchSize) ready.push(batch.splice(0, batchSize));
          else {
            ready.push(batch);
            batch = [];
          }
        }
      },
      rest: () => (batch.length > 0 ? batch : undefined),
    };
  });
}

/**
 * `readRows` column by column: each batch holds its rows as one vector per column (column-batch.ts), numbers and
 * uuids (with `uuidAsBytes`) in typed arrays, with no array per row and no object per number. For rows handed
 * straight to the Parquet writer (`TableWriter.writeColumns`); `exactBigInt` is not available here. A batch is the
 * consumer's until it asks for the next one: then its vectors are filled again.
 */
export function readColumns(
  client: Client,
  table: SourceTable,
  mapping: TableMapping,
  options: Omit<ReadRowsOptions, 'exactBigInt'> = {},
): AsyncGenerator<ColumnBatch> {
  const capacity = options.batchSize ?? 2048;
  return streamCopy(client, table, mapping, options, (keyIndexes) => {
    const decoderOpts = decoderOptions(options);
    const columns = mapping.columns.map((c) => compileSink(c.decode, decoderOpts));
    // The sinks decode every field; a value decoder is compiled only for the key columns, which name a failing row.
    const decoders = mapping.columns.map((c, i) => (keyIndexes.includes(i) ? compileDecoder(c.decode, decoderOpts) : notDecoded));
    const parser = new CopyBinaryParser(
      decoders,
      keyIndexes,
      columns.map((c) => c.sink),
    );
    const free: ColumnBatch[] = [];
    const fresh = (): ColumnBatch => free.pop() ?? { rows: 0, columns: columns.map((c) => c.vector(capacity)) };
    let batch = fresh();
    return {
      parser,
      push: (buf, start, end, ready) => {
        parser.pushColumns(buf, batch, capacity, start, end);
        while (batch.rows === capacity) {
          ready.push(batch);
          batch = fresh();
          // The tuples after a full batch were kept: they go on into the next one.
          if (parser.pending > 0) parser.pushColumns(EMPTY, batch, capacity);
        }
      },
      rest: () => (batch.rows > 0 ? batch : undefined),
      done: (used) => free.push(emptied(used)),
    };
  });
}

const EMPTY = Buffer.alloc(0);

/** The parser's decoder of a column readColumns never decodes as a value (not a key column). */
const notDecoded: FieldDecoder = () => {
  throw new Error('a column read by its sink only');
};

/** The decoders' options. Text arrives as UTF-8 (pg sets client_encoding UTF8; PostgreSQL validates even SQL_ASCII data on the way out). */
function decoderOptions(options: ReadRowsOptions): CompileDecoderOptions {
  return { exactBigInt: options.exactBigInt === true, uuidAsBytes: options.uuidAsBytes === true, textAsBytes: options.textAsBytes === true };
}

/** How a stream's bytes become batches of some form (rows, or column vectors). */
interface Batcher<B> {
  parser: CopyBinaryParser;
  /** Parses `buf[start, end)` and appends every batch it completed to `ready`. */
  push(buf: Buffer, start: number, end: number, ready: B[]): void;
  /** The last, partial batch at the end of the stream. */
  rest(): B | undefined;
  /** Called with a batch once the consumer asked for the next one: it is free for reuse. */
  done?(batch: B): void;
}

/** The COPY of readRows and readColumns: batches as `makeBatcher` forms them, with back-pressure and cancelling. */
async function* streamCopy<B>(
  client: Client,
  table: SourceTable,
  mapping: TableMapping,
  options: ReadRowsOptions,
  makeBatcher: (keyIndexes: number[]) => Batcher<B>,
): AsyncGenerator<B> {
  const plan = buildCopy(table, mapping, options);
  const where = displayQualified(plan.relation.schema, plan.relation.name);
  const target = clientTarget(client);
  await prepareSession(client, options.keyRange, where);
  const keyColumns = options.keyColumns ?? table.key.columns;
  const keyIndexes = keyColumns.map((name) => mapping.columns.findIndex((c) => c.name === name));
  const keyRead = keyColumns.length > 0 && keyIndexes.every((i) => i >= 0);
  const batcher = makeBatcher(keyRead ? keyIndexes : []);
  const signal = options.abortSignal;
  signal?.throwIfAborted();

  const ready: B[] = [];
  let ended = false;
  let failure: unknown;
  let discarding = false;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const resume = wake;
    wake = undefined;
    resume?.();
  };
  let finish: () => void = () => undefined;
  const streamDone = new Promise<void>((resolve) => {
    finish = (): void => {
      ended = true;
      notify();
      resolve();
    };
  });
  const copy = new CopyOutQuery(plan.sql, {
    data: (buf, start, end) => {
      if (discarding || failure !== undefined) return;
      const before = ready.length;
      try {
        batcher.push(buf, start, end, ready);
      } catch (error) {
        failure = error;
        notify();
        return;
      }
      if (ready.length > before) {
        if (ready.length >= MAX_READY_BATCHES) copy.pause();
        notify();
      }
    },
    end: () => finish(),
    error: (error) => {
      if (!discarding) failure ??= error;
      finish();
    },
  });
  client.query(copy);
  const onAbort = (): void => {
    failure ??= signal?.reason ?? new Error('aborted');
    notify();
  };
  signal?.addEventListener('abort', onAbort, { once: true });

  let completed = false;
  try {
    for (;;) {
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- the first failure, rethrown exactly as it was caught
      if (failure !== undefined) throw failure;
      const next = ready.shift();
      if (next !== undefined) {
        if (ready.length < MAX_READY_BATCHES && copy.isPaused()) copy.resume();
        yield next;
        batcher.done?.(next);
        continue;
      }
      if (ended) {
        batcher.parser.finish();
        const rest = batcher.rest();
        if (rest !== undefined) yield rest;
        completed = true;
        return;
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } catch (error) {
    // The caller's abort reason is theirs to recognise: it leaves unchanged.
    if (signal?.aborted === true && error === signal.reason) throw error;
    const keyNote = keyRead ? undefined : keyColumns.length === 0 ? 'the table has no key' : 'its key columns are not read';
    throw describeFailure(error, { table, mapping, keyColumns, keyNote, where, target, operation: `COPY ${where}` });
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (!completed && !ended) {
      // The server is still sending: cancel the statement and discard what is in flight, so the connection is
      // usable again (the transaction is aborted by the cancel and must be rolled back by its owner).
      discarding = true;
      copy.resume();
      sendCancelRequest(client, target);
      // A cancel that never lands leaves the connection mid-COPY: closing its socket is the only way out then.
      const timer = setTimeout(() => destroyConnection(client), CANCEL_GRACE_IN_MS);
      await streamDone;
      clearTimeout(timer);
    }
  }
}

function destroyConnection(client: Client): void {
  const connection = (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection;
  connection?.stream?.destroy();
}

interface CopyPlan {
  sql: string;
  relation: { schema: string; name: string };
}

/** The COPY statement: identifiers from the catalog, quoted; bounds as session parameters. */
function buildCopy(table: SourceTable, mapping: TableMapping, options: ReadRowsOptions): CopyPlan {
  for (const column of mapping.columns) {
    if (!table.columns.some((c) => c.name === column.name)) {
      throw new ValidationError(`column ${displayIdent(column.name)} is not a column of ${displayQualified(table.schema, table.name)}`);
    }
  }
  const asked = options.relation ?? { schema: table.schema, name: table.name };
  const isTable = asked.schema === table.schema && asked.name === table.name;
  const leaf = table.leaves.find((l) => l.schema === asked.schema && l.name === asked.name);
  if (!isTable && leaf === undefined) {
    throw new ValidationError(`${displayQualified(asked.schema, asked.name)} is not ${displayQualified(table.schema, table.name)} or one of its partitions`);
  }
  const partitionedRoot = isTable && table.kind === 'partitioned';
  const conditions: string[] = [];
  if (options.pages !== undefined) {
    if (partitionedRoot) throw new ValidationError('a page range applies to one leaf partition, not to a partitioned table');
    if (leaf?.kind === 'foreign') throw new ValidationError('a page range cannot be read from a foreign table');
    const { fromPage, toPage } = options.pages;
    checkPage(fromPage, 'fromPage');
    // Page numbers are integers checked here, not caller text, so they may be written into the statement.
    conditions.push(`ctid >= '(${fromPage},0)'::tid`);
    if (toPage !== null) {
      checkPage(toPage, 'toPage');
      conditions.push(`ctid < '(${toPage},0)'::tid`);
    }
  }
  if (options.keyRange !== undefined) conditions.push(...keyConditions(table, options.keyRange));
  const relation = quoteQualified(asked.schema, asked.name);
  const allBinary = mapping.columns.every((c) => c.transfer === 'binary');
  // COPY table (cols) refuses generated columns; they are read through a SELECT like any expression.
  const generated = mapping.columns.some((c) => table.columns.find((t) => t.name === c.name)?.generated !== undefined);
  let sql: string;
  if (conditions.length === 0 && allBinary && !generated && !partitionedRoot) {
    // The plain form skips the executor's projection: the cheapest way PostgreSQL has to send a table.
    sql = `COPY ${relation} (${mapping.columns.map((c) => quoteIdent(c.name)).join(', ')}) TO STDOUT (FORMAT binary)`;
  } else {
    const from = partitionedRoot ? relation : `ONLY ${relation}`;
    const filter = conditions.length === 0 ? '' : ` WHERE ${conditions.join(' AND ')}`;
    sql = `COPY (SELECT ${mapping.columns.map((c) => c.selectSql).join(', ')} FROM ${from}${filter}) TO STDOUT (FORMAT binary)`;
  }
  return { sql, relation: asked };
}

function checkPage(page: number, name: string): void {
  if (!Number.isSafeInteger(page) || page < 0 || page > 0xffffffff) throw new ValidationError(`${name} must be a page number 0..4294967295, got ${page}`);
}

function keyConditions(table: SourceTable, range: KeyRange): string[] {
  if (range.columns.length === 0) throw new ValidationError('a key range needs at least one column');
  const columns = range.columns.map((name) => {
    const column = table.columns.find((c) => c.name === name);
    if (column === undefined) throw new ValidationError(`key column ${displayIdent(name)} is not a column of ${displayQualified(table.schema, table.name)}`);
    return column;
  });
  const side = (bound: string[] | undefined, which: 'lower' | 'upper', op: string): string[] => {
    if (bound === undefined) return [];
    if (bound.length !== columns.length) throw new ValidationError(`the ${which} key bound has ${bound.length} values for ${columns.length} columns`);
    // The type text comes from format_type() in the catalog; the value is read from a parameter set earlier.
    const values = columns.map((c, i) => `pg_catalog.current_setting('icebridge.${which}_${i}')::${c.type.sql}`);
    return [`(${columns.map((c) => quoteIdent(c.name)).join(', ')}) ${op} (${values.join(', ')})`];
  };
  return [...side(range.lower, 'lower', '>='), ...side(range.upper, 'upper', '<')];
}

/** Sets the text-output settings and key bounds for the transaction; checks a snapshot is in force. */
async function prepareSession(client: Client, range: KeyRange | undefined, where: string): Promise<void> {
  const names: string[] = TEXT_OUTPUT_SETTINGS.map(([name]) => name);
  const values: string[] = TEXT_OUTPUT_SETTINGS.map(([, value]) => value);
  const addBound = (bound: string[] | undefined, which: string): void => {
    bound?.forEach((value, i) => {
      if (value.includes('\u0000')) throw new ValidationError('a key bound cannot contain a NUL character');
      names.push(`icebridge.${which}_${i}`);
      values.push(value);
    });
  };
  addBound(range?.lower, 'lower');
  addBound(range?.upper, 'upper');
  let row: { isolation: string } | undefined;
  try {
    const result = await client.query<{ isolation: string }>(
      `SELECT (SELECT count(*) FROM unnest($1::text[], $2::text[]) AS s(name, value), pg_catalog.set_config(s.name, s.value, true)) AS applied,
              pg_catalog.current_setting('transaction_isolation') AS isolation`,
      [names, values],
    );
    row = result.rows[0];
  } catch (error) {
    throw toPostgresError(error, { operation: `preparing COPY ${where}`, target: clientTarget(client) });
  }
  if (row === undefined || (row.isolation !== 'repeatable read' && row.isolation !== 'serializable')) {
    throw new ValidationError(
      `reading ${where} needs a REPEATABLE READ transaction (use withSnapshotTransaction); the session is in ${row?.isolation ?? 'no'} isolation`,
    );
  }
}

interface FailureContext {
  table: SourceTable;
  mapping: TableMapping;
  keyColumns: readonly string[];
  /** Why rows are named by position instead of by key; undefined when the key is read. */
  keyNote: string | undefined;
  where: string;
  target: ReturnType<typeof clientTarget>;
  operation: string;
}

function describeFailure(error: unknown, context: FailureContext): unknown {
  if (!(error instanceof RowDecodeFailure)) {
    if (error instanceof IcebridgeError) return error;
    return toPostgresError(error, { operation: context.operation, target: context.target });
  }
  const column = context.mapping.columns[error.columnIndex]!;
  const path = error.failure.path.join('');
  const key = renderKey(context, error.keyValues, error.rowNumber);
  // A value is named bounded (bounded-text.ts): an error travels in activity results and statuses.
  const value = quotedText(error.failure.valueText);
  return new IcebridgeError(
    UNREPRESENTABLE_VALUE,
    `table ${displayQualified(context.table.schema, context.table.name)}, column ${displayIdent(column.name)}${path}, row ${key}: ` +
      `value ${value} cannot be stored exactly: ${error.failure.reason}`,
  );
}

function renderKey(context: FailureContext, values: Array<Value | undefined>, rowNumber: number): string {
  if (context.keyNote !== undefined) return `#${rowNumber} of ${context.where} (${context.keyNote})`;
  const texts = context.keyColumns.map((name, i) => {
    const value = values[i];
    const column = context.mapping.columns.find((c) => c.name === name)!;
    if (value === undefined) return '?';
    // A uuid or a text read as bytes (uuidAsBytes, textAsBytes) is named in its text form, like every other key value.
    const shown = value instanceof InternedText ? value.text : value instanceof Uint8Array && column.decode.kind === 'uuid' ? uuidFromBytes(value) : value;
    const text = renderForComparison(column.decode, shown);
    return text === null ? 'NULL' : boundedText(text);
  });
  return `(${context.keyColumns.map(displayIdent).join(', ')})=(${texts.join(', ')})`;
}
