/**
 * `ICEBRIDGE_SOURCE_AUTH=entra` against a real server: the role's password stands in for what Azure Database for
 * PostgreSQL checks (the Entra token), and the fake credential hands out tokens, so each login shows which token
 * `pg` sent and when a new one was fetched.
 */
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPostgres } from '../../shared/postgres/connection';
import { fakeCredential } from '../infra/fake-credential';
import { type PostgresInstance, startPostgres } from './support/postgres';

let pg: PostgresInstance;
let admin: Client;

beforeAll(async () => {
  pg = await startPostgres();
  admin = new Client({ connectionString: pg.url });
  await admin.connect();
});

afterAll(async () => {
  await admin?.end();
  await pg?.stop();
});

async function setPassword(token: string): Promise<void> {
  await admin.query(`ALTER ROLE app_identity PASSWORD '${token}'`);
}

describe('PostgreSQL login with an Entra token', () => {
  it('sends the token as the password and fetches a new one only when the old is near expiry', async () => {
    await admin.query('CREATE ROLE app_identity LOGIN');
    const soon = Date.now() + 60_000; // inside the five-minute margin: the next login fetches again
    const later = Date.now() + 60 * 60_000;
    const credential = fakeCredential([
      { token: 'token-one', expiresOnTimestamp: soon },
      { token: 'token-two', expiresOnTimestamp: later },
      { token: 'token-three', expiresOnTimestamp: later },
    ]);
    const url = `postgresql://app_identity@${pg.host}:${pg.port}/postgres`;
    const login = { env: { ICEBRIDGE_SOURCE_AUTH: 'entra' }, credential };
    const whoAmI = async (): Promise<string> => {
      const client = await connectPostgres(url, { login });
      try {
        return (await client.query<{ user: string }>('SELECT current_user AS user')).rows[0]!.user;
      } finally {
        await client.end();
      }
    };

    await setPassword('token-one');
    expect(await whoAmI()).toBe('app_identity');
    await setPassword('token-two');
    expect(await whoAmI()).toBe('app_identity');
    expect(credential.scopes).toHaveLength(2);
    // token-two is good for an hour: the next login reuses it, even though the credential would give another.
    expect(await whoAmI()).toBe('app_identity');
    expect(credential.scopes).toHaveLength(2);

    await setPassword('token-nobody-has');
    const refused = await connectPostgres(url, { login }).then(
      () => 'connected',
      (error: unknown) => String(error),
    );
    expect(refused).toMatch(/password authentication failed/);
    expect(refused).not.toContain('token-two');
  });

  it('logs in with the password of the URL when the setting is off', async () => {
    const client = await connectPostgres(pg.url, { login: { env: {} } });
    await client.end();
  });
});
