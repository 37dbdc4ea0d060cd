import { describe, expect, it } from 'vitest';
import { describeSettings, loadSettings } from '../../../shared/config/settings';
import { ValidationError } from '../../../shared/errors';
import { AzureClients } from '../../../shared/iceberg/io/azure-clients';
import { fakeCredential } from '../../infra/fake-credential';

const STORAGE_SCOPE = 'https://storage.azure.com/.default';
// Nothing listens on port 1: a request fails at once, after the token was asked for.
const DEAD_ENDPOINT = 'https://127.0.0.1:1/acct01';

describe("storage with the app's identity", () => {
  it('signs Blob and Data Lake clients with the credential, asking for the storage scope when a request is made', async () => {
    const credential = fakeCredential([{ token: 'storage-token', expiresOnTimestamp: Date.now() + 3_600_000 }]);
    const clients = new AzureClients({ accounts: [{ accountName: 'acct01', identity: true, blobEndpoint: DEAD_ENDPOINT }], credential, maxTries: 1 });
    const { blob, blobOnce } = clients.forAccount('acct01', 'core.windows.net');
    expect(blob.url).toBe(DEAD_ENDPOINT);
    expect(blob.credential).toBe(credential);
    expect(blobOnce.credential).toBe(credential);
    expect(clients.dataLakeForAccount('acct01', 'core.windows.net').credential).toBe(credential);
    expect(credential.scopes).toEqual([]);
    const failure = await blob
      .getContainerClient('lake')
      .exists()
      .then(
        () => 'answered',
        (error: unknown) => String(error),
      );
    expect(failure).not.toBe('answered');
    expect(failure).not.toContain('storage-token');
    expect(credential.scopes).toEqual([STORAGE_SCOPE]);
  });

  it('builds the public endpoint from the account and refuses an http endpoint, which would send the token in clear', () => {
    const credential = fakeCredential([]);
    const clients = new AzureClients({ accounts: [{ accountName: 'acct01', identity: true }], credential });
    expect(clients.forAccount('acct01', 'core.windows.net').blob.url).toBe('https://acct01.blob.core.windows.net/');
    const http = () => new AzureClients({ accounts: [{ accountName: 'acct01', identity: true, blobEndpoint: 'http://127.0.0.1:10000/acct01' }] });
    expect(http).toThrow(ValidationError);
    expect(http).toThrow(/needs an https blob endpoint/);
  });

  it('reads ICEBRIDGE_STORAGE_ACCOUNT without a key as the identity of that account', () => {
    const settings = loadSettings({ ICEBRIDGE_WAREHOUSE: 'abfss://lake@acct01.dfs.core.windows.net/wh', ICEBRIDGE_STORAGE_ACCOUNT: 'acct01' });
    expect(settings.storage.azure?.accounts).toEqual([{ accountName: 'acct01', identity: true }]);
    expect(describeSettings(settings).storageCredentials).toBe('identity for acct01');
    expect(() => loadSettings({ ICEBRIDGE_WAREHOUSE: 'abfss://lake@acct01.dfs.core.windows.net/wh' })).toThrow(
      /ICEBRIDGE_STORAGE_ACCOUNT \(alone, to use the app's identity/,
    );
  });
});
