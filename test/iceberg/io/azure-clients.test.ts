import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../shared/errors';
import { AzureClients, accountNameOfConnectionString, parseConnectionString } from '../../../shared/iceberg/io/azure-clients';

const SUFFIX = 'EndpointSuffix=core.windows.net';
const KEY = Buffer.from('not-a-real-key-'.repeat(4)).toString('base64');

describe('connection strings', () => {
  it('parses pairs case-insensitively and keeps "=" inside values', () => {
    const parts = parseConnectionString(`DefaultEndpointsProtocol=https;accountname=acct01;AccountKey=${KEY};x=y`);
    expect(parts.get('accountname')).toBe('acct01');
    expect(parts.get('accountkey')).toBe(KEY);
  });

  it('finds the account from AccountName, the development shortcut, or the blob endpoint', () => {
    expect(accountNameOfConnectionString(`AccountName=acct01;AccountKey=${KEY}`)).toBe('acct01');
    expect(accountNameOfConnectionString('UseDevelopmentStorage=true')).toBe('devstoreaccount1');
    const sas = 'SharedAccessSignature=sv=1&sig=x';
    expect(accountNameOfConnectionString(`BlobEndpoint=https://acct02.blob.core.windows.net/;${sas}`)).toBe('acct02');
    expect(accountNameOfConnectionString(`BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;${sas}`)).toBe('devstoreaccount1');
  });

  it('rejects a connection string without an account, without quoting it', () => {
    const secret = 'SharedAccessSignature=sv=2024&sig=TOPSECRET';
    expect(() => accountNameOfConnectionString(secret)).toThrow(ValidationError);
    expect(() => accountNameOfConnectionString(secret)).not.toThrow(/TOPSECRET/);
  });
});

describe('AzureClients', () => {
  it('selects credentials by account name and refuses unknown accounts', () => {
    const clients = new AzureClients({
      accounts: [
        { accountName: 'acct01', accountKey: KEY },
        { connectionString: `DefaultEndpointsProtocol=https;AccountName=acct02;AccountKey=${KEY};${SUFFIX}` },
      ],
    });
    expect(clients.forAccount('acct01', 'core.windows.net').blob.url).toBe('https://acct01.blob.core.windows.net/');
    expect(clients.forAccount('acct02', 'core.windows.net').blob.url).toBe('https://acct02.blob.core.windows.net/');
    expect(clients.forAccount('acct01', 'core.windows.net')).toBe(clients.forAccount('acct01', 'core.windows.net'));
    expect(() => clients.forAccount('acct03', 'core.windows.net')).toThrow("No Azure credentials are configured for storage account 'acct03'");
  });

  it('honours a blob endpoint override and sovereign endpoint suffixes', () => {
    const clients = new AzureClients({
      accounts: [
        { accountName: 'devstoreaccount1', accountKey: KEY, blobEndpoint: 'http://127.0.0.1:10000/devstoreaccount1' },
        { accountName: 'acct01', accountKey: KEY },
      ],
    });
    const emulator = clients.forAccount('devstoreaccount1', 'core.windows.net');
    expect(emulator.blob.url).toBe('http://127.0.0.1:10000/devstoreaccount1');
    const sovereign = clients.forAccount('acct01', 'core.chinacloudapi.cn');
    expect(sovereign.blob.url).toBe('https://acct01.blob.core.chinacloudapi.cn/');
  });

  it('rejects duplicate accounts and bad tuning with messages that hold no key', () => {
    const accounts = [{ accountName: 'a1b', accountKey: KEY }, { connectionString: `AccountName=a1b;AccountKey=${KEY}` }];
    const duplicate = () => new AzureClients({ accounts });
    expect(duplicate).toThrow("storage account 'a1b' more than once");
    expect(duplicate).not.toThrow(KEY);
    const incomplete = new AzureClients({ accounts: [{ connectionString: 'AccountName=acct09;AccountKey=SECRETKEY' }] });
    expect(() => incomplete.forAccount('acct09', 'core.windows.net')).toThrow(ValidationError);
    expect(() => incomplete.forAccount('acct09', 'core.windows.net')).not.toThrow(/SECRETKEY/);
    expect(() => new AzureClients({ accounts: [], blockSizeInBytes: 0 })).toThrow(ValidationError);
    expect(() => new AzureClients({ accounts: [], operationTimeoutInMs: 1.5 })).toThrow(ValidationError);
    expect(() => new AzureClients({ accounts: [{ accountName: 'a1b', accountKey: '' }] })).toThrow(ValidationError);
  });
});
