/**
 * `COPY … FROM STDIN` as a pg query: once the server answers CopyInResponse, the chunks of `source` are sent as
 * CopyData messages with the socket's backpressure honoured, then CopyDone. A failure of the source sends CopyFail,
 * so the server ends the COPY with an error and the transaction holds none of its rows. pg's own parser handles
 * everything the server sends back (CommandComplete, ErrorResponse, ReadyForQuery).
 */
import type { Connection, Submittable } from 'pg';

/** The COPY messages pg's Connection sends (present in pg, missing from its type declarations). */
interface CopyConnection extends Connection {
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
  sendCopyFail(message: string): void;
}

/** One COPY FROM STDIN statement; pass it to `client.query` and await `done`. */
export class CopyInQuery implements Submittable {
  /** Settles with the rows the server reports copied, or the COPY's failure. */
  readonly done: Promise<number>;
  private resolve!: (rows: number) => void;
  private reject!: (error: Error) => void;
  private rows = 0;
  private failure: Error | undefined;
  /** The server ended the COPY (an error): the rest of the source is not read or sent. */
  private ended = false;

  constructor(
    readonly text: string,
    private readonly source: AsyncIterable<Buffer>,
  ) {
    this.done = new Promise<number>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // Awaited by the caller; a rejection before that must not count as unhandled.
    this.done.catch(() => undefined);
  }

  /** Called by pg when the query's turn comes. */
  submit(connection: Connection): void {
    connection.query(this.text);
  }

  /** The server is ready for the rows. */
  handleCopyInResponse(connection: Connection): void {
    void this.pump(connection as CopyConnection);
  }

  /** The server counted the rows (`COPY <n>`). */
  handleCommandComplete(message: { text?: string }): void {
    const match = /^COPY (\d+)/.exec(message.text ?? '');
    if (match) this.rows = Number(match[1]);
  }

  /** The statement ended: settle with the count, or with the failure seen before. */
  handleReadyForQuery(): void {
    if (this.failure) this.reject(this.failure);
    else this.resolve(this.rows);
  }

  /** A server error or a lost connection; pg sends ReadyForQuery to the next query, so settle here. */
  handleError(error: Error): void {
    this.ended = true;
    this.reject(this.failure ?? error);
  }

  private async pump(connection: CopyConnection): Promise<void> {
    const socket = connection.stream;
    try {
      for await (const chunk of this.source) {
        // The server ignores CopyData after it ended the COPY; reading the rest of a large table would be waste.
        if (this.ended) return;
        connection.sendCopyFromChunk(chunk);
        if (socket.writableNeedDrain) await drained(socket);
      }
      if (!this.ended) connection.endCopyFrom();
    } catch (error) {
      if (this.ended) return;
      this.failure = error instanceof Error ? error : new Error(String(error));
      // The server then answers with an ErrorResponse, which ends the statement.
      connection.sendCopyFail(this.failure.message.slice(0, 500));
    }
  }
}

/** Resolves once the socket takes writes again, or is closed (then the query's error settles it). */
function drained(socket: NodeJS.EventEmitter): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.once('drain', done);
    socket.once('close', done);
  });
}
