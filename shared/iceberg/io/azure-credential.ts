/**
 * The app's Microsoft Entra identity: one `DefaultAzureCredential` per process (per thread), made on first use, so
 * every client that signs with a token shares its token cache. On Azure it is the Function App's managed identity
 * (a user-assigned one when `AZURE_CLIENT_ID` names it); on a workstation, the developer's `az login`. Only this
 * folder imports `@azure/identity`; the rest of the code sees the `TokenCredential` interface.
 */
import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';

export type { AccessToken, TokenCredential } from '@azure/identity';

let processCredential: TokenCredential | undefined;

/** The process's DefaultAzureCredential, made once; nothing is asked of Entra until a token is needed. */
export function defaultAzureCredential(): TokenCredential {
  processCredential ??= new DefaultAzureCredential();
  return processCredential;
}
