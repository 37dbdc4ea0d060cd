import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../shared/errors';
import { connectPostgres } from '../../shared/postgres/connection';
import { POSTGRES_ENTRA_SCOPE, entraPasswordSource, sourceAuthMode, sourcePasswordSource } from '../../shared/postgres/entra-auth';
import { fakeCredential } from '../infra/fake-credential';

const HOUR = 60 * 60_000;

describe('the Entra password of PostgreSQL logins', () => {
  it('asks for the ossrdbms-aad scope and reuses a token until five minutes before it expires', async () => {
    let now = 1_000_000;
    const credential = fakeCredential([
      { token: 'token-1', expiresOnTimestamp: now + HOUR },
      { token: 'token-2', expiresOnTimestamp: now + 3 * HOUR },
    ]);
    const password = entraPasswordSource(credential, { now: () => now });
    expect(password.current()).toBeUndefined();
    expect(await password()).toBe('token-1');
    expect(credential.scopes).toEqual([POSTGRES_ENTRA_SCOPE]);
    now += HOUR - 5 * 60_000 - 1;
    expect(await password()).toBe('token-1');
    expect(credential.scopes).toHaveLength(1);
    now += 1;
    expect(await password()).toBe('token-2');
    expect(credential.scopes).toHaveLength(2);
    expect(password.current()).toBe('token-2');
  });

  it("honours the credential's refresh hint and lets concurrent logins share one request", async () => {
    const now = 0;
    const credential = fakeCredential([
      { token: 'token-1', expiresOnTimestamp: now + HOUR, refreshAfterTimestamp: now },
      { token: 'token-2', expiresOnTimestamp: now + HOUR },
    ]);
    const password = entraPasswordSource(credential, { now: () => now });
    expect(await Promise.all([password(), password(), password()])).toEqual(['token-1', 'token-1', 'token-1']);
    expect(credential.scopes).toHaveLength(1);
    expect(await password()).toBe('token-2');
  });

  it('turns a failing or empty credential into a ValidationError naming the setting', async () => {
    const failing = { getToken: () => Promise.reject(new Error('no managed identity endpoint\nsecond line')) };
    await expect(entraPasswordSource(failing)()).rejects.toThrow(/ICEBRIDGE_SOURCE_AUTH=entra\): no managed identity endpoint$/);
    await expect(entraPasswordSource({ getToken: () => Promise.resolve(null) })()).rejects.toThrow(ValidationError);
  });

  it('is off unless ICEBRIDGE_SOURCE_AUTH=entra, and refuses other values', () => {
    expect(sourceAuthMode({})).toBe('password');
    expect(sourceAuthMode({ ICEBRIDGE_SOURCE_AUTH: ' Entra ' })).toBe('entra');
    expect(() => sourceAuthMode({ ICEBRIDGE_SOURCE_AUTH: 'kerberos' })).toThrow(/ICEBRIDGE_SOURCE_AUTH must be "password" or "entra"/);
    expect(sourcePasswordSource({})).toBeUndefined();
    const credential = fakeCredential([]);
    expect(sourcePasswordSource({ ICEBRIDGE_SOURCE_AUTH: 'entra' }, credential)).toBe(sourcePasswordSource({ ICEBRIDGE_SOURCE_AUTH: 'entra' }, credential));
  });

  it('refuses a URL that also carries a password, without quoting it', async () => {
    const login = { env: { ICEBRIDGE_SOURCE_AUTH: 'entra' }, credential: fakeCredential([]) };
    const connecting = connectPostgres('postgresql://app:hunter2@127.0.0.1:1/db', { login });
    await expect(connecting).rejects.toThrow(/take the password out of the PostgreSQL URL/);
    await expect(connectPostgres('postgresql://app:hunter2@127.0.0.1:1/db', { login })).rejects.not.toThrow(/hunter2/);
  });
});
