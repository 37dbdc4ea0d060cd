/** A free loopback port, for the local servers the CLI, benchmarks and tests start. */
import * as net from 'node:net';

/**
 * A port the OS just handed out on 127.0.0.1. Another process could take it before the caller binds it, so
 * callers that start a server retry on a new port when it is in use.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => (port > 0 ? resolve(port) : reject(new Error('could not probe a free port'))));
    });
  });
}
