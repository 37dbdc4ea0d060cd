/**
 * The logical replication stream of a pgoutput slot: `START_REPLICATION … LOGICAL` on a replication connection,
 * read as batches of decoded events with back-pressure, and the standby status updates that tell the server what
 * it may forget. The position reported is only ever what the consumer confirmed (see README.md, "Positions").
 */
import type { Client } from 'pg';
import { IcebridgeError, ValidationError, errorMessage } from '../errors';
import { clientTarget } from '../postgres/connection';
import { quoteIdent } from '../postgres/identifiers';
import { isRetryablePostgresError, toPostgresError } from '../postgres/postgres-errors';
import { type ChangeEvent, ChangeDecoder, type TableBinding, type TableName } from './change-decoder';
import { CopyBothQuery } from './copy-both-query';
import { type Lsn, formatLsn, maxLsn } from './lsn';
import { type PgoutputMessage, parsePgoutput } from './pgoutput';
import { checkSlotName } from './replication-setup';

/** Options of `startReplication`. */
export interface StartReplicationOptions {
  slotName: string;
  publications: readonly string[];
  /**
   * The position the consumer has durably applied: the end LSN of the last transaction in its tables (read from
   * there, not from the slot). The server sends nothing committed before it, and transactions whose commit LSN is
   * before it are dropped here too. '0/0' (0n) starts at the slot's confirmed position.
   */
  startLsn: Lsn;
  /** The tables changes are expected for, with the mapping their copy used. */
  bindings: readonly TableBinding[];
  /** pgoutput protocol version; defaults to 1 (streaming of large transactions is not asked for). */
  protoVersion?: 1 | 2;
  /** Events per batch at most; defaults to 1000. */
  batchSize?: number;
  /**
   * Batches decoded ahead of the consumer before the socket is paused; defaults to 4. A consumer that gathers many
   * batches and then spends a while applying them (the sync loop) lets the server decode the next ones meanwhile.
   */
  readyBatches?: number;
  /** Interval between standby status updates; defaults to 10 s (wal_sender_timeout is 60 s by default). */
  statusIntervalInMs?: number;
  /** bigint for every 64-bit value, as `readRows(..., { exactBigInt })`. */
  exactBigInt?: boolean;
  /** Hand on logical decoding messages (pg_logical_emit_message); off by default. */
  messages?: boolean;
  /**
   * Describes a table again from the catalog (its binding as `bindings` has it, with `shape`). Given, a table whose
   * shape changes has its changes marked `unusable` instead of failing the stream, and columns added at the end
   * are taken on (a `relation` event) when the catalog describes exactly the columns the stream sends.
   */
  describeAgain?: (table: TableName) => Promise<TableBinding>;
}

/** Figures of a running stream. */
export interface ReplicationStreamStats {
  /** What the consumer confirmed (or what an idle keepalive let the stream confirm): the flush position reported. */
  confirmedLsn: Lsn;
  /** Transactions dropped because they committed before `startLsn`. */
  skippedTransactions: number;
  /** Standby status updates written to the server. */
  statusUpdatesSent: number;
  /** Decoded events waiting for the consumer. */
  bufferedEvents: number;
  /** True while the socket is not read because the consumer is behind. */
  paused: boolean;
  /**
   * The server's WAL end from its latest keepalive that came when every event before it had been handed to the
   * consumer and no transaction was open: the consumer holds every change up to here (0 before such a keepalive).
   */
  deliveredLsn: Lsn;
}

const DEFAULT_READY_BATCHES = 4;
const CLOSE_GRACE_IN_MS = 10_000;
/** Microseconds between 1970-01-01 and PostgreSQL's epoch 2000-01-01. */
const PG_EPOCH_MICROS = 946_684_800_000_000n;
const MINIMUM_SERVER_VERSION = 140000;

/** A started stream: iterate `batches()`, `confirm` what was applied, `close` when done. */
export interface ReplicationStream {
  /** Batches of events in WAL order; a transaction may span batches. Ends after `close`; throws on failure. */
  batches(): AsyncGenerator<ChangeEvent[]>;
  /** The consumer has durably applied everything up to `lsn` (a commit's `endLsn`); reported to the server. */
  confirm(lsn: Lsn): void;
  /** Sends a status update now (also sent every `statusIntervalInMs` and whenever the server asks). */
  sendStatus(): void;
  /** Current figures. */
  stats(): ReplicationStreamStats;
  /**
   * Calls `listener` whenever `deliveredLsn` or the confirmed position moves on a keepalive, so a consumer waiting
   * for a position (caught up with a target) learns it at once rather than at its next timer; one listener at a time.
   */
  onServerPosition(listener: (() => void) | undefined): void;
  /** Reports the confirmed position, ends the exchange with CopyDone and waits for the server; the connection stays usable. */
  close(): Promise<void>;
}

/**
 * Starts streaming a slot on a replication connection (`connectReplication`). Needs PostgreSQL 14 or later: values
 * are taken in binary only (`binary 'true'`), because the copy decodes binary and a text value could differ.
 */
export async function startReplication(client: Client, options: StartReplicationOptions): Promise<ReplicationStream> {
  checkSlotName(options.slotName);
  if (options.publications.length === 0) throw new ValidationError('startReplication needs at least one publication');
  const target = clientTarget(client);
  let version: number;
  try {
    version = Number((await client.query<{ server_version_num: string }>('SHOW server_version_num')).rows[0]!.server_version_num);
  } catch (error) {
    throw toPostgresError(error, { operation: 'reading the server version', target });
  }
  if (version < MINIMUM_SERVER_VERSION) {
    throw new ValidationError(`change data capture needs PostgreSQL 14 or later (binary values in the replication stream); the server is ${version}`);
  }
  const publicationNames = options.publications.map((p) => quoteIdent(p)).join(',');
  const sql =
    `START_REPLICATION SLOT ${options.slotName} LOGICAL ${formatLsn(options.startLsn)} ` +
    `(proto_version '${options.protoVersion ?? 1}', publication_names '${publicationNames.replace(/'/g, "''")}', binary 'true', messages '${options.messages === true}')`;
  const stream = new Stream(client, sql, options);
  // A missing slot or a slot in use fails here rather than at the first batch.
  try {
    await stream.started;
  } catch (error) {
    await stream.close();
    throw error;
  }
  return stream;
}

class Stream implements ReplicationStream {
  private readonly decoder: ChangeDecoder;
  private readonly query: CopyBothQuery;
  private readonly batchSize: number;
  private readonly readyBatches: number;
  private readonly ready: ChangeEvent[][] = [];
  private batch: ChangeEvent[] = [];
  private failure: unknown;
  private ended = false;
  private closing = false;
  private paused = false;
  private wake: (() => void) | undefined;
  private positionListener: (() => void) | undefined;
  private delivered: Lsn = 0n;
  private readonly timer: NodeJS.Timeout;
  private endPromise: Promise<void>;
  /** Settles when the server has accepted START_REPLICATION, or rejects with its refusal. */
  readonly started: Promise<void>;
  private closed: Promise<void> = Promise.resolve();
  private confirmed: Lsn;
  /**
   * What the consumer holds: the end LSN of the last commit `batches()` has given it (or a position confirmed idle).
   * It may confirm up to here, and while it has not, nothing past it is reported.
   */
  private handed: Lsn;
  /** Between a Begin and its Commit. */
  private inTransaction = false;
  /** The Begin of the transaction at hand, until its first change. */
  private pendingBegin: ChangeEvent | undefined;
  /** The transaction at hand committed before startLsn: its events are dropped. */
  private skipping = false;
  private skipped = 0;
  private statusUpdates = 0;
  /** CopyData messages that arrived while a table is described again, in order: handled once it is. */
  private held: Buffer[] | undefined;

  constructor(
    client: Client,
    sql: string,
    private readonly options: StartReplicationOptions,
  ) {
    this.decoder = new ChangeDecoder(options.bindings, {
      exactBigInt: options.exactBigInt === true,
      messages: options.messages === true,
      perTable: options.describeAgain !== undefined,
    });
    this.batchSize = options.batchSize ?? 1000;
    this.readyBatches = Math.max(1, options.readyBatches ?? DEFAULT_READY_BATCHES);
    this.confirmed = options.startLsn;
    this.handed = options.startLsn;
    let finish: () => void = () => undefined;
    this.endPromise = new Promise<void>((resolve) => (finish = resolve));
    let accept: () => void = () => undefined;
    let refuse: (error: unknown) => void = () => undefined;
    this.started = new Promise<void>((resolve, reject) => {
      accept = resolve;
      refuse = reject;
    });
    this.query = new CopyBothQuery(sql, {
      started: () => accept(),
      message: (buf, start, end) => this.onMessage(buf, start, end),
      chunkDone: () => this.flushBatch(),
      end: () => {
        this.ended = true;
        finish();
        this.notify();
      },
      error: (error) => {
        if (!this.closing)
          this.failure ??= toPostgresError(error, { operation: `streaming changes from slot ${options.slotName}`, target: clientTarget(client) });
        refuse(this.failure ?? error);
        this.ended = true;
        finish();
        this.notify();
      },
    });
    client.query(this.query);
    this.timer = setInterval(() => this.sendStatus(), options.statusIntervalInMs ?? 10_000);
    this.timer.unref();
  }

  async *batches(): AsyncGenerator<ChangeEvent[]> {
    try {
      for (;;) {
        // eslint-disable-next-line @typescript-eslint/only-throw-error -- the first failure, rethrown exactly as it was caught
        if (this.failure !== undefined) throw this.failure;
        const next = this.ready.shift();
        if (next !== undefined) {
          if (this.paused && this.ready.length < this.readyBatches) {
            this.paused = false;
            if (this.held === undefined) this.query.resume();
          }
          this.handed = maxLsn(this.handed, lastCommitEnd(next));
          yield next;
          continue;
        }
        if (this.ended) return;
        await new Promise<void>((resolve) => (this.wake = resolve));
      }
    } finally {
      if (!this.ended) await this.close();
    }
  }

  confirm(lsn: Lsn): void {
    if (lsn > this.handed) {
      throw new ValidationError(`cannot confirm ${formatLsn(lsn)}: the stream has delivered changes up to ${formatLsn(this.handed)} only`);
    }
    this.confirmed = maxLsn(this.confirmed, lsn);
  }

  sendStatus(): void {
    // Write, flush and apply are all the consumer's confirmed position: the server frees WAL on flush.
    const payload = Buffer.alloc(34);
    payload[0] = 0x72; // 'r'
    payload.writeBigUInt64BE(this.confirmed, 1);
    payload.writeBigUInt64BE(this.confirmed, 9);
    payload.writeBigUInt64BE(this.confirmed, 17);
    payload.writeBigInt64BE(BigInt(Date.now()) * 1000n - PG_EPOCH_MICROS, 25);
    payload[33] = 0;
    if (this.query.send(payload)) this.statusUpdates++;
  }

  onServerPosition(listener: (() => void) | undefined): void {
    this.positionListener = listener;
  }

  stats(): ReplicationStreamStats {
    const bufferedEvents = this.ready.reduce((sum, batch) => sum + batch.length, this.batch.length);
    return {
      confirmedLsn: this.confirmed,
      skippedTransactions: this.skipped,
      statusUpdatesSent: this.statusUpdates,
      bufferedEvents,
      paused: this.paused,
      deliveredLsn: this.delivered,
    };
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    if (this.closing) return this.closed;
    this.closing = true;
    this.closed = this.shutDown();
    return this.closed;
  }

  private async shutDown(): Promise<void> {
    this.sendStatus();
    this.query.sendCopyDone();
    // The server may still be sending: read on (and drop) until its CopyDone.
    this.ready.length = 0;
    this.batch = [];
    this.query.resume();
    const grace = setTimeout(() => this.query.destroy(), CLOSE_GRACE_IN_MS);
    // ReadyForQuery, not just CopyDone: only then has the server released the slot.
    await Promise.all([this.endPromise, this.query.finished]);
    clearTimeout(grace);
    this.notify();
  }

  private onMessage(buf: Buffer, start: number, end: number): void {
    if (this.closing || this.failure !== undefined) return;
    if (this.held !== undefined) {
      // Order matters: nothing after a Relation being described is handled before it.
      this.held.push(Buffer.from(buf.subarray(start, end)));
      return;
    }
    try {
      const type = buf[start];
      if (type === 0x77) {
        // 'w' XLogData: start LSN, current end of WAL, send time, then one pgoutput message.
        this.onPgoutput(buf, start + 25, end);
      } else if (type === 0x6b) {
        // 'k' primary keepalive: end of WAL, send time, reply requested.
        this.onKeepalive(buf.readBigUInt64BE(start + 1), buf[start + 17] === 1);
      } else {
        throw new ValidationError(`replication protocol: unexpected CopyData message ${JSON.stringify(String.fromCharCode(type ?? 0))}`);
      }
    } catch (error) {
      this.fail(error);
    }
  }

  private fail(error: unknown): void {
    if (this.failure !== undefined) return;
    this.failure =
      error instanceof IcebridgeError ? error : new ValidationError(`replication stream: ${error instanceof Error ? error.message : String(error)}`);
    this.notify();
    // Nothing after a failure may be applied: stop reading and end the exchange.
    this.query.pause();
    this.query.sendCopyDone();
  }

  private onPgoutput(buf: Buffer, start: number, end: number): void {
    const message = parsePgoutput(buf, start, end);
    if (message.tag === 'relation' && this.options.describeAgain !== undefined) {
      const table = this.decoder.needsDescription(message);
      if (table !== undefined) {
        this.describeAgain(message, table, this.options.describeAgain);
        return;
      }
    }
    this.onDecoded(message);
  }

  /**
   * Describes a table whose Relation message no longer fits its binding, holding every later message (and the
   * socket) until the description is in, then goes on in order. The description is asynchronous I/O; the decoder
   * stays pure.
   */
  private describeAgain(message: Extract<PgoutputMessage, { tag: 'relation' }>, table: TableName, describe: (table: TableName) => Promise<TableBinding>): void {
    this.held = [];
    this.query.pause();
    let transient = false;
    describe(table)
      .then(
        (binding) => this.decoder.redescribe(message.relationId, binding),
        (error: unknown) => {
          // A description that may succeed later (a lost connection) ends the stream unconfirmed, and the next
          // session describes the table again; only a description that cannot be made marks the table unusable.
          if (isRetryablePostgresError(error)) {
            transient = true;
            this.fail(error);
            return;
          }
          this.decoder.redescribe(message.relationId, { error: errorMessage(error) });
        },
      )
      .then(() => {
        if (transient || this.closing || this.failure !== undefined) return;
        const held = this.held ?? [];
        this.held = undefined;
        try {
          this.onDecoded(message);
        } catch (error) {
          this.fail(error);
          return;
        }
        for (let i = 0; i < held.length; i++) {
          this.onMessage(held[i]!, 0, held[i]!.length);
          // Another Relation to describe: it holds the rest, in order, behind it.
          if (this.held !== undefined) {
            this.held = held.slice(i + 1).concat(this.held);
            return;
          }
        }
        this.flushBatch();
        if (!this.paused && !this.closing) this.query.resume();
      })
      .catch((error: unknown) => this.fail(error));
  }

  private onDecoded(message: PgoutputMessage): void {
    // Relation messages are always decoded, even inside a skipped transaction: later changes refer to them.
    const event = this.decoder.decode(message);
    if (event === undefined) return;
    if (event.kind === 'begin') {
      this.inTransaction = true;
      // Skipping rule: a transaction whose commit LSN is before the applied position is already in the tables.
      this.skipping = event.finalLsn < this.options.startLsn;
      if (this.skipping) this.skipped++;
      // Held back until the first change: a transaction with no change for us is never handed over.
      this.pendingBegin = this.skipping ? undefined : event;
      return;
    }
    if (event.kind === 'commit') {
      this.inTransaction = false;
      const wasSkipping = this.skipping;
      this.skipping = false;
      if (wasSkipping) return;
      if (this.pendingBegin !== undefined) {
        // Empty (PostgreSQL 14 sends one for every transaction of the database): nothing to apply, so it moves
        // the confirmed position like a keepalive does.
        this.pendingBegin = undefined;
        this.advanceIfIdle(event.endLsn);
        return;
      }
    } else if (this.skipping) {
      return;
    } else if (this.pendingBegin !== undefined) {
      this.batch.push(this.pendingBegin);
      this.pendingBegin = undefined;
    }
    this.batch.push(event);
    if (this.batch.length >= this.batchSize) this.flushBatch();
  }

  private onKeepalive(walEnd: Lsn, replyRequested: boolean): void {
    const handedOver = !this.inTransaction && this.batch.length === 0 && this.ready.length === 0;
    const deliveredMoved = handedOver && walEnd > this.delivered;
    if (deliveredMoved) this.delivered = walEnd;
    const advanced = this.advanceIfIdle(walEnd);
    if (!advanced && replyRequested) this.sendStatus();
    if (deliveredMoved || advanced) this.positionListener?.();
  }

  /**
   * Idle advance: a position past everything received (a keepalive's walEnd, an empty transaction's end) may be
   * confirmed only when no transaction is in flight, none waits for the consumer, and the consumer has confirmed
   * everything handed to it, so no WAL is kept for writes to tables outside the publication. A consumer that holds
   * a transaction unconfirmed (gathered, not applied) holds the position where it is. True when it moved the
   * position (and reported it).
   */
  private advanceIfIdle(position: Lsn): boolean {
    const idle = !this.inTransaction && this.batch.length === 0 && this.ready.length === 0 && this.confirmed >= this.handed;
    if (!idle || position <= this.confirmed) return false;
    this.confirmed = position;
    this.handed = maxLsn(this.handed, position);
    this.sendStatus();
    return true;
  }

  private flushBatch(): void {
    if (this.batch.length === 0) return;
    this.ready.push(this.batch);
    this.batch = [];
    if (this.ready.length >= this.readyBatches && !this.paused) {
      this.paused = true;
      this.query.pause();
    }
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

/** The end LSN of the batch's last commit, or 0 when it holds none (a transaction's part). */
function lastCommitEnd(batch: readonly ChangeEvent[]): Lsn {
  for (let i = batch.length - 1; i >= 0; i--) {
    const event = batch[i]!;
    if (event.kind === 'commit') return event.endLsn;
  }
  return 0n;
}
