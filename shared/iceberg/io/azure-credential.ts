/**
 * The app's Microsoft Entra identity: one `DefaultAzureCredential` per process (per thread), made on first use, so
 * every client that signs with a token shares its token cache. On Azure it is the Function App's managed identity
 * (a user-assigned one when `AZURE_CLIENT_ID` names it); on a workstation, the developer's `az login`. Only this
 * folder imports `@azure/identity`; the rest of the code sees the `TokenCredential` interface.
 */
import type { GetTokenOptions, TokenCredential } from '@azure/identity';

export type { AccessToken, TokenCredential } from '@azure/identity';

let processCredential: TokenCredential | undefined;

/** The process's DefaultAzureCredential; nothing is loaded or asked of Entra until a token is needed. */
export function defaultAzureCredential(): TokenCredential {
  processCredential ??= deferredDefaultCredential();
  return processCredential;
}

/**
 * Loading `@azure/identity` costs about a quarter of a second per process and per copy worker thread, and most runs
 * (keys, connection strings, local disk) never need it: only the first token request loads it.
 */
function deferredDefaultCredential(): TokenCredential {
  let credential: Promise<TokenCredential> | undefined;
  return {
    getToken: async (scopes: string | string[], options?: GetTokenOptions) => {
      credential ??= import('@azure/identity').then(({ DefaultAzureCredential }) => new DefaultAzureCredential());
      return (await credential).getToken(scopes, options);
    },
  };
}
