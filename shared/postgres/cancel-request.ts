/**
 * The protocol's CancelRequest, sent on a separate socket: the only way to stop a COPY in flight while keeping
 * its connection. Best effort by design; if it is lost, the caller's own timeout ends the wait.
 */
import * as net from 'node:net';
import type { Client } from 'pg';
import type { PostgresTarget } from './postgres-errors';

const CANCEL_REQUEST_CODE = 80877102;
const CANCEL_TIMEOUT_IN_MS = 5_000;

/** Asks the server to cancel the statement the client is running; never throws. */
export function sendCancelRequest(client: Client, target: PostgresTarget): void {
  // pg keeps the backend key it received at login on the client object.
  const key = client as unknown as { processID?: unknown; secretKey?: unknown };
  if (typeof key.processID !== 'number' || typeof key.secretKey !== 'number') return;
  const message = Buffer.alloc(16);
  message.writeInt32BE(16, 0);
  message.writeInt32BE(CANCEL_REQUEST_CODE, 4);
  message.writeInt32BE(key.processID, 8);
  message.writeInt32BE(key.secretKey | 0, 12);
  const socket = target.host.startsWith('/')
    ? net.connect({ path: `${target.host}/.s.PGSQL.${target.port}` })
    : net.connect({ host: target.host, port: target.port });
  socket.setTimeout(CANCEL_TIMEOUT_IN_MS, () => socket.destroy());
  socket.once('connect', () => socket.end(message));
  socket.on('error', () => socket.destroy());
  socket.resume();
}
