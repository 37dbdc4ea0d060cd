/**
 * `COPY ... TO STDOUT` as a pg query that reads the connection's socket itself while the COPY runs and hands the
 * consumer the payload of each CopyData message as a range of the socket's own buffer: no Buffer per message and
 * no concatenation (pg-copy-streams allocates both, which showed in profiles at one message per row). ErrorResponse
 * and everything after CopyDone go back to pg's own parser, so server errors, CommandComplete and ReadyForQuery
 * reach pg as for any other query; connection loss reaches `handleError` through pg as well.
 */
import type { Connection, Submittable } from 'pg';

/** What the consumer of a CopyOutQuery is told. */
export interface CopyOutHandlers {
  /** Payload bytes `buf[start, end)` of CopyData messages, in order; valid only during the call. */
  data(buf: Buffer, start: number, end: number): void;
  /** CopyDone arrived: every byte was delivered. */
  end(): void;
  /** The COPY failed: a server error, the connection lost, or the exchange ended without CopyDone. */
  error(error: Error): void;
}

// Backend message types seen during COPY OUT (PostgreSQL protocol, "Message Formats").
const COPY_DATA = 0x64; // 'd'
const COPY_DONE = 0x63; // 'c'
const COPY_OUT_RESPONSE = 0x48; // 'H'
const NOTICE_RESPONSE = 0x4e; // 'N'
const PARAMETER_STATUS = 0x53; // 'S'
const NOTIFICATION_RESPONSE = 0x41; // 'A'
const HEADER_BYTES = 5;

type DataListener = (chunk: Buffer) => void;

/** One COPY TO STDOUT statement; pass it to `client.query`. */
export class CopyOutQuery implements Submittable {
  private connection: Connection | undefined;
  private pgDataHandler: DataListener | undefined;
  private readonly onData: DataListener = (chunk) => this.parse(chunk);
  private attached = false;
  private paused = false;
  private settled = false;
  /** Type of the message whose body is being read, or -1 between messages. */
  private code = -1;
  /** Body bytes of the current message still to come. */
  private remaining = 0;
  /** A message header split across socket chunks. */
  private readonly header = Buffer.alloc(HEADER_BYTES);
  private headerLength = 0;

  constructor(
    readonly text: string,
    private readonly handlers: CopyOutHandlers,
  ) {}

  /** Called by pg when the query's turn comes. */
  submit(connection: Connection): void {
    this.connection = connection;
    const socket = connection.stream;
    const listeners = socket.listeners('data') as DataListener[];
    if (listeners.length !== 1) throw new Error(`expected pg's one data listener on the connection, found ${listeners.length}`);
    // The socket stays in flowing mode: each chunk arrives as it was read, never concatenated with others.
    this.pgDataHandler = listeners[0]!;
    socket.removeListener('data', this.pgDataHandler);
    socket.on('data', this.onData);
    this.attached = true;
    connection.query(this.text);
  }

  /** Stops reading the socket after the chunk at hand; the server then waits (back-pressure). */
  pause(): void {
    this.paused = true;
    if (this.attached) this.connection!.stream.pause();
  }

  /** Reads again after `pause`. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.attached) this.connection!.stream.resume();
  }

  /** True while paused. */
  isPaused(): boolean {
    return this.paused;
  }

  /** pg: a server error (ErrorResponse handed back to it) or a lost connection. */
  handleError(error: Error): void {
    if (this.attached) this.detach(undefined, 0);
    this.settle(() => this.handlers.error(error));
  }

  /** pg: CommandComplete, after CopyDone. */
  handleCommandComplete(): void {}

  /** pg: ReadyForQuery ends the exchange; reaching it without CopyDone or an error is a protocol failure. */
  handleReadyForQuery(): void {
    this.settle(() => this.handlers.error(new Error('the COPY ended without CopyDone')));
  }

  private parse(chunk: Buffer): void {
    const end = chunk.length;
    let pos = 0;
    while (pos < end) {
      if (this.code < 0) {
        // A message starts here (or its header continues from the previous chunk).
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
          if (this.headerLength < HEADER_BYTES) return;
          code = this.header[0]!;
          this.remaining = this.header.readUInt32BE(1) - 4;
          this.headerLength = 0;
        }
        this.code = code;
      }
      const n = Math.min(this.remaining, end - pos);
      if (this.code === COPY_DATA && n > 0) this.handlers.data(chunk, pos, pos + n);
      pos += n;
      this.remaining -= n;
      if (this.remaining > 0) return;
      const code = this.code;
      this.code = -1;
      if (code === COPY_DONE) {
        // Ended before pg sees the rest: it may hold ReadyForQuery, which must find the COPY complete.
        this.settle(() => this.handlers.end());
        this.detach(chunk, pos);
        return;
      }
    }
  }

  /** Gives the socket back to pg, with the bytes from `chunk[from]` on that it has not seen. */
  private detach(chunk: Buffer | undefined, from: number): void {
    if (!this.attached) return;
    this.attached = false;
    const socket = this.connection!.stream;
    socket.removeListener('data', this.onData);
    socket.on('data', this.pgDataHandler!);
    if (chunk !== undefined && from < chunk.length) this.pgDataHandler!(chunk.subarray(from));
    // Paused or not, pg needs what follows (CommandComplete, ReadyForQuery); resume once it has dealt with the
    // bytes it was just handed, as pg-copy-streams does.
    process.nextTick(() => socket.resume());
  }

  private settle(fn: () => void): void {
    if (this.settled) return;
    this.settled = true;
    fn();
  }
}

/** Message types read (and dropped, except CopyData) during COPY OUT; anything else is pg's to parse. */
function consumed(code: number): boolean {
  return (
    code === COPY_DATA ||
    code === COPY_DONE ||
    code === COPY_OUT_RESPONSE ||
    code === NOTICE_RESPONSE ||
    code === PARAMETER_STATUS ||
    code === NOTIFICATION_RESPONSE
  );
}
