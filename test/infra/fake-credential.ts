/**
 * A TokenCredential for tests: hands out the tokens it is given, in order, and records every scope asked for, so
 * a test sees whether and how often a client asked for a token without any call to Microsoft Entra.
 */
import type { AccessToken, TokenCredential } from '../../shared/iceberg/io/azure-credential';

/** A fake credential and what was asked of it. */
export interface FakeCredential extends TokenCredential {
  /** The scopes of every `getToken` call, in order. */
  readonly scopes: string[];
}

/** Hands out `tokens` one per call (the last one again once they run out). */
export function fakeCredential(tokens: readonly AccessToken[]): FakeCredential {
  const scopes: string[] = [];
  let next = 0;
  return {
    scopes,
    getToken: (scope: string | string[]): Promise<AccessToken> => {
      scopes.push(...(Array.isArray(scope) ? scope : [scope]));
      const token = tokens[Math.min(next++, tokens.length - 1)];
      if (token === undefined) return Promise.reject(new Error('the fake credential holds no token'));
      return Promise.resolve(token);
    },
  };
}
