import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { IcebridgeError, ValidationError } from '../../shared/errors';
import { connectPostgres, parsePostgresUrl, redactUrl, sourceOnThisMachine } from '../../shared/postgres/connection';

const SECRET = 's3cr3t-p@ss/word';
const ENCODED = encodeURIComponent(SECRET);

describe('sourceOnThisMachine', () => {
  it('is true for loopback hosts and Unix sockets, false for any other host and for an unreadable URL', () => {
    for (const url of [
      'postgresql://u:p@localhost/db',
      'postgresql://u@127.0.0.1:5433/db',
      'postgresql://u@127.1.2.3/db',
      'postgresql://u@[::1]:5432/db',
      'postgresql:///db?host=/var/run/postgresql&user=u',
    ]) {
      expect(sourceOnThisMachine(url), url).toBe(true);
    }
    for (const url of [
      'postgresql://u@db.example.com/db',
      'postgresql://u@10.0.0.5/db',
      'postgresql://u@128.0.0.1/db',
      'postgresql://u@localhost.example.com/db',
      'not a url',
    ]) {
      expect(sourceOnThisMachine(url), url).toBe(false);
    }
  });
});

describe('redactUrl', () => {
  it('keeps user, host, port and database; drops password and query', () => {
    expect(redactUrl(`postgresql://app:${ENCODED}@db.example.com:6432/sales?sslmode=require&password=${ENCODED}`)).toBe(
      'postgresql://app@db.example.com:6432/sales',
    );
    expect(redactUrl('postgres://app@localhost/app')).toBe('postgresql://app@localhost:5432/app');
    expect(redactUrl('postgres://app:pw@[::1]:5433/db')).toBe('postgresql://app@[::1]:5433/db');
  });

  it('never echoes an unparseable URL', () => {
    expect(redactUrl(`not a url ${SECRET}`)).toBe('(invalid PostgreSQL URL)');
  });
});

describe('parsePostgresUrl', () => {
  it('decodes percent-encoded parts and query parameters', () => {
    const parsed = parsePostgresUrl(`postgresql://us%C3%A9r:${ENCODED}@h:1234/d%20b?sslmode=verify-full&application_name=x&connect_timeout=3`);
    expect(parsed.target).toEqual({ host: 'h', port: 1234, database: 'd b', user: 'usér' });
    expect(parsed.password).toBe(SECRET);
    expect(parsed.ssl).toEqual({ rejectUnauthorized: true });
    expect(parsed.applicationName).toBe('x');
    expect(parsed.connectTimeoutInMs).toBe(3000);
  });

  it('rejects bad URLs without repeating them', () => {
    for (const url of [`mysql://u:${ENCODED}@h/d`, `${SECRET}`, `postgresql://:${ENCODED}@h/d`, `postgresql://u:${ENCODED}@h:99999/d`]) {
      let error: unknown;
      try {
        parsePostgresUrl(url);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as Error).message).not.toContain(SECRET);
      expect((error as Error).message).not.toContain(ENCODED);
    }
  });
});

describe('connectPostgres', () => {
  const servers: net.Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  });

  async function listen(onConnection: (socket: net.Socket) => void): Promise<number> {
    const server = net.createServer(onConnection);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as net.AddressInfo).port;
  }

  async function connectError(url: string, connectTimeoutInMs: number): Promise<IcebridgeError> {
    try {
      const client = await connectPostgres(url, { connectTimeoutInMs });
      await client.end();
    } catch (error) {
      return error as IcebridgeError;
    }
    throw new Error('expected the connection to fail');
  }

  it('reports a refused connection as retryable, naming the target but not the password', async () => {
    const port = await listen(() => undefined);
    await new Promise((resolve) => servers.pop()!.close(resolve));
    const error = await connectError(`postgresql://app:${ENCODED}@127.0.0.1:${port}/sales`, 2000);
    expect(error).toBeInstanceOf(IcebridgeError);
    expect(error.retryable).toBe(true);
    expect(error.code).toBe('POSTGRES_UNAVAILABLE');
    expect(error.message).toContain(`127.0.0.1:${port}, database "sales", user "app"`);
    expect(error.message).not.toContain(SECRET);
    expect(error.message).not.toContain(ENCODED);
    expect(error.cause).toBeUndefined();
  });

  it('gives up on a server that never answers after the connect timeout', async () => {
    const sockets: net.Socket[] = [];
    const port = await listen((socket) => sockets.push(socket));
    const started = Date.now();
    // The URL asks for 10 minutes and the option for 300 ms: the option wins, and a connect that ignored both
    // would hang. So a lower bound (it did wait) and an upper bound minutes away from the wrong outcomes.
    const error = await connectError(`postgresql://app:${ENCODED}@127.0.0.1:${port}/sales?connect_timeout=600`, 300);
    const elapsedInMs = Date.now() - started;
    sockets.forEach((s) => s.destroy());
    expect(elapsedInMs).toBeGreaterThanOrEqual(250);
    expect(elapsedInMs).toBeLessThan(120_000);
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/connect timeout/);
    expect(error.message).not.toContain(SECRET);
  }, 180_000);
});
