/**
 * A CopyBoth exchange (START_REPLICATION) as a pg query. node-postgres has no CopyBoth support, so, as
 * copy-out-query.ts does for COPY OUT, this reads the connection's socket itself while the exchange runs: every
 * CopyData message is handed over whole, and CopyData messages can be written back (standby status updates).
 * ErrorResponse and everything after the server's CopyDone go back to pg's own parser, so server errors,
 * CommandComplete and ReadyForQuery reach pg as for any other query.
 */
import type { Connection, Submittable } from 'pg';

/** What the consumer of a CopyBothQuery is told. */
export interface CopyBothHandlers {
  /** CopyBothResponse: the server accepted the command and the exchange has begun. */
  started(): void;
  /** The payload `buf[start, end)` of one whole CopyData message; valid only during the call. */
  message(buf: Buffer, start: number, end: number): void;
  /** Every whole message of one socket chunk has been handed over. */
  chunkDone(): void;
  /** The server ended the exchange with CopyDone. */
  end(): void;
  /** A server error, the connection lost, or the exchange ended without CopyDone. */
  error(error: Error): void;
}

// Backend message types seen during CopyBoth (PostgreSQL protocol, "Message Formats").
const COPY_DATA = 0x64; // 'd'
const COPY_DONE = 0x63; // 'c'
const COPY_BOTH_RESPONSE = 0x57; // 'W'
const NOTICE_RESPONSE = 0x4e; // 'N'
const PARAMETER_STATUS = 0x53; // 'S'
const NOTIFICATION_RESPONSE = 0x41; // 'A'
const HEADER_BYTES = 5;

type DataListener = (chunk: Buffer) => void;

/** One CopyBoth statement; pass it to `client.query`. */
export class CopyBothQuery implements Submittable {
  private connection: Connection | undefined;
  private pgDataHandler: DataListener | undefined;
  private readonly onData: DataListener = (chunk) => this.parse(chunk);
  private attached = false;
  private settled = false;
  private sentCopyDone = false;
  private serverDone = false;
  /** Type of the message whose body is being read, or -1 between messages. */
  private code = -1;
  /** Body bytes of the current message still to come. */
  private remaining = 0;
  /** The body of a message split across socket chunks, and how much of it has arrived. */
  private body: Buffer | undefined;
  private bodyLength = 0;
  private readonly header = Buffer.alloc(HEADER_BYTES);
  private headerLength = 0;

  /** Settles when pg has finished with the query (ReadyForQuery or a failure): the connection is free again. */
  readonly finished: Promise<void>;
  private markFinished: () => void = () => undefined;

  constructor(
    readonly text: string,
    private readonly handlers: CopyBothHandlers,
  ) {
    this.finished = new Promise<void>((resolve) => (this.markFinished = resolve));
  }

  /** Called by pg when the query's turn comes. */
  submit(connection: Connection): void {
    this.connection = connection;
    const socket = connection.stream;
    const listeners = socket.listeners('data') as DataListener[];
    if (listeners.length !== 1) throw new Error(`expected pg's one data listener on the connection, found ${listeners.length}`);
    this.pgDataHandler = listeners[0]!;
    socket.removeListener('data', this.pgDataHandler);
    socket.on('data', this.onData);
    this.attached = true;
    connection.query(this.text);
  }

  /** Sends one CopyData message to the server; false once the exchange is over or the client has sent CopyDone. */
  send(payload: Buffer): boolean {
    if (!this.attached || this.sentCopyDone) return false;
    const message = Buffer.alloc(HEADER_BYTES + payload.length);
    message[0] = COPY_DATA;
    message.writeUInt32BE(4 + payload.length, 1);
    payload.copy(message, HEADER_BYTES);
    this.connection!.stream.write(message);
    return true;
  }

  /** Ends the client's half of the exchange; the server answers with CopyDone once it has stopped sending. */
  sendCopyDone(): void {
    if (!this.attached || this.sentCopyDone) return;
    this.sentCopyDone = true;
    const message = Buffer.alloc(HEADER_BYTES);
    message[0] = COPY_DONE;
    message.writeUInt32BE(4, 1);
    this.connection!.stream.write(message);
  }

  /** Stops reading the socket after the chunk at hand; the server then waits (back-pressure). */
  pause(): void {
    if (this.attached) this.connection!.stream.pause();
  }

  /** Reads again after `pause`. */
  resume(): void {
    if (this.attached) this.connection!.stream.resume();
  }

  /** Closes the socket: the way out when the server does not answer CopyDone. */
  destroy(): void {
    this.connection?.stream.destroy();
  }

  /** pg: a server error (ErrorResponse handed back to it) or a lost connection. */
  handleError(error: Error): void {
    if (this.attached) this.detach(undefined, 0);
    this.settle(() => this.handlers.error(error));
    this.markFinished();
  }

  /** pg: CommandComplete, after CopyDone. */
  handleCommandComplete(): void {}

  /** pg: ReadyForQuery ends the exchange; reaching it without CopyDone or an error is a protocol failure. */
  handleReadyForQuery(): void {
    this.settle(() => this.handlers.error(new Error('the replication stream ended without CopyDone')));
    this.markFinished();
  }

  private parse(chunk: Buffer): void {
    const end = chunk.length;
    let pos = 0;
    while (pos < end) {
      if (this.code < 0) {
        let code: number;
        if (this.headerLength === 0 && end - pos >= HEADER_BYTES) {
          code = chunk[pos]!;
          if (!consumed(code)) return this.detach(chunk, pos);
          this.remaining = chunk.readUInt32BE(pos + 1) - 4;
          pos += HEADER_BYTES;
        } else {
          if (this.headerLength === 0 && !consumed(chunk[pos]!)) return this.detach(chunk, pos);
          const n = Math.min(HEADER_BYTES - this.headerLength, end - pos);
          chunk.copy(this.header, this.headerLength, pos, pos + n);
          this.headerLength += n;
          pos += n;
          if (this.headerLength < HEADER_BYTES) break;
          code = this.header[0]!;
          this.remaining = this.header.readUInt32BE(1) - 4;
          this.headerLength = 0;
        }
        this.code = code;
        // A CopyData body that is not all in this chunk is gathered into a buffer of its own.
        if (code === COPY_DATA && !this.serverDone && this.remaining > end - pos) {
          this.body = Buffer.allocUnsafe(this.remaining);
          this.bodyLength = 0;
        }
      }
      const n = Math.min(this.remaining, end - pos);
      if (this.code === COPY_DATA) {
        if (this.serverDone) {
          // after the server's CopyDone: dropped
        } else if (this.body !== undefined) {
          chunk.copy(this.body, this.bodyLength, pos, pos + n);
          this.bodyLength += n;
        } else {
          this.handlers.message(chunk, pos, pos + n);
        }
      }
      pos += n;
      this.remaining -= n;
      if (this.remaining > 0) break;
      const code = this.code;
      this.code = -1;
      if (code === COPY_BOTH_RESPONSE) this.handlers.started();
      if (this.body !== undefined && !this.serverDone) {
        const body = this.body;
        this.body = undefined;
        this.handlers.message(body, 0, body.length);
      }
      if (code === COPY_DONE) {
        // The server may still send CopyData (a keepalive) after its CopyDone: those are read and dropped, and
        // the socket goes back to pg at CommandComplete (or an error), the first message that is not ours.
        this.serverDone = true;
        this.handlers.chunkDone();
        this.settle(() => this.handlers.end());
      }
    }
    if (!this.serverDone) this.handlers.chunkDone();
  }

  /** Gives the socket back to pg, with the bytes from `chunk[from]` on that it has not seen. */
  private detach(chunk: Buffer | undefined, from: number): void {
    if (!this.attached) return;
    this.attached = false;
    const socket = this.connection!.stream;
    socket.removeListener('data', this.onData);
    socket.on('data', this.pgDataHandler!);
    if (chunk !== undefined && from < chunk.length) this.pgDataHandler!(chunk.subarray(from));
    process.nextTick(() => socket.resume());
  }

  private settle(fn: () => void): void {
    if (this.settled) return;
    this.settled = true;
    fn();
  }
}

/** Message types read during CopyBoth (CopyData handed over, the rest dropped); anything else is pg's to parse. */
function consumed(code: number): boolean {
  return (
    code === COPY_DATA ||
    code === COPY_DONE ||
    code === COPY_BOTH_RESPONSE ||
    code === NOTICE_RESPONSE ||
    code === PARAMETER_STATUS ||
    code === NOTIFICATION_RESPONSE
  );
}
