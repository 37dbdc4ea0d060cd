import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../shared/errors';
import { AppConfigurationFlagStore } from '../../shared/flags/app-configuration-store';
import { flagSetupFromEnv } from '../../shared/flags/flag-settings';
import { fakeCredential } from '../infra/fake-credential';

describe("App Configuration with the app's identity", () => {
  it('asks the credential for a token when it calls the store, and names the store, not the token, when it fails', async () => {
    const credential = fakeCredential([{ token: 'appconfig-token', expiresOnTimestamp: Date.now() + 3_600_000 }]);
    // Nothing listens on port 1: the call fails once the token was asked for.
    const store = new AppConfigurationFlagStore({ endpoint: 'https://127.0.0.1:1', credential });
    expect(store.description).toBe('App Configuration 127.0.0.1:1');
    const failure = await store.list().then(
      () => 'answered',
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(ValidationError);
    expect(String(failure)).toMatch(/could not list flags in App Configuration 127\.0\.0\.1:1/);
    expect(String(failure)).not.toContain('appconfig-token');
    expect(credential.scopes.length).toBeGreaterThan(0);
    expect(credential.scopes.every((scope) => scope.endsWith('/.default'))).toBe(true);
  });

  it('refuses a plain http endpoint, even on this machine: a token is never sent in the clear', () => {
    expect(() => new AppConfigurationFlagStore({ endpoint: 'http://127.0.0.1:8080', credential: fakeCredential([]) })).toThrow(/must be https/);
    expect(() => new AppConfigurationFlagStore({ endpoint: 'not a url', credential: fakeCredential([]) })).toThrow(/not a valid URL/);
  });

  it('takes ICEBRIDGE_APPCONFIG_ENDPOINT when no connection string is set', () => {
    const setup = flagSetupFromEnv({ ICEBRIDGE_APPCONFIG_ENDPOINT: 'https://flags.azconfig.io' }, '/tmp/warehouse');
    expect(setup.store.description).toBe('App Configuration flags.azconfig.io');
  });
});
