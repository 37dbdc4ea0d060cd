import * as http from 'node:http';
import * as net from 'node:net';
import { inspect } from 'node:util';
// The SDK is used directly only to plant what a hierarchical-namespace account would show.
import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IcebridgeError, ValidationError } from '../../shared/errors';
import { AzureDataLake } from '../../shared/iceberg/io/azure-datalake';
import { AzureFileIO } from '../../shared/iceberg/io/azure-file-io';
import { createFileIO, ResolvingFileIO, type AzureStorageSettings } from '../../shared/iceberg/io/index';
import { describeFileIOContract, digest, listAll, pattern } from '../iceberg/io/file-io-contract';
import { startAzurite, type AzuriteInstance } from './support/azurite';

const BLOCK_SIZE = 1024;
let azurite: AzuriteInstance;

beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite?.stop();
});

/** abfss location on the emulator's account; the account name picks the credentials, the endpoint override routes. */
const lake = (container: string, path = ''): string => `abfss://${container}@${azurite.accountName}.dfs.core.windows.net/${path}`;

/** The emulator's credentials, sent to `blobEndpoint` (Azurite unless a test points them elsewhere). */
function endpointSettings(blobEndpoint: string, overrides: Partial<AzureStorageSettings> = {}): AzureStorageSettings {
  return { accounts: [{ accountName: azurite.accountName, accountKey: azurite.accountKey, blobEndpoint }], ...overrides };
}

function keySettings(overrides: Partial<AzureStorageSettings> = {}): AzureStorageSettings {
  return endpointSettings(azurite.blobEndpoint, { blockSizeInBytes: BLOCK_SIZE, ...overrides });
}

const loopback = (port: number): string => `http://127.0.0.1:${port}/${azurite.accountName}`;

describeFileIOContract('Azure blob endpoint (Azurite, account key, 2-blob listing pages)', () => ({
  io: new AzureFileIO(keySettings({ listPageSize: 2 })),
  base: lake('contract', 'warehouse/'),
  blockSizeInBytes: BLOCK_SIZE,
}));

describeFileIOContract('Azure blob endpoint (Azurite, connection string, wasbs)', () => ({
  io: new AzureFileIO({ accounts: [{ connectionString: azurite.connectionString }], blockSizeInBytes: BLOCK_SIZE }),
  base: `wasbs://contract-wasbs@${azurite.accountName}.blob.core.windows.net/warehouse/`,
  blockSizeInBytes: BLOCK_SIZE,
}));

/** Whatever a person or a log could see of an error. */
function renderings(error: unknown): string[] {
  const asError = error as Error;
  return [String(error), asError.message, JSON.stringify(error), inspect(error, { depth: 10 }), asError.stack ?? ''];
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('AzureFileIO against Azurite', () => {
  it('creates the container on first write, also for concurrent first writers', async () => {
    const io = new AzureFileIO(keySettings());
    const writes = Array.from({ length: 5 }, (_, i) => io.write(lake('fresh-container', `f${i}.bin`), pattern(10, i)));
    await Promise.all(writes);
    expect(await listAll(io, lake('fresh-container'))).toHaveLength(5);
  });

  it('treats a missing container as missing files, not as an error', async () => {
    const io = new AzureFileIO(keySettings());
    expect(await io.stat(lake('no-such-container', 'x'))).toBeUndefined();
    expect(await listAll(io, lake('no-such-container', 'x/'))).toEqual([]);
    await expect(io.delete(lake('no-such-container', 'x'))).resolves.toBeUndefined();
    await expect(io.read(lake('no-such-container', 'x'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('sees the same blobs through abfss and wasbs locations', async () => {
    const io = new AzureFileIO(keySettings());
    await io.write(lake('forms', 'a/b.json'), pattern(9));
    const viaBlob = `wasbs://forms@${azurite.accountName}.blob.core.windows.net/a/b.json`;
    expect(digest(await io.read(viaBlob))).toEqual(digest(pattern(9)));
    expect(await listAll(io, `wasbs://forms@${azurite.accountName}.blob.core.windows.net/a/`)).toEqual([{ location: viaBlob, size: 9 }]);
  });

  it('skips the directory marker blobs ADLS Gen2 shows on the blob endpoint', async () => {
    const io = new AzureFileIO(keySettings());
    await io.write(lake('markers', 'table/data/f.parquet'), pattern(3));
    // What a hierarchical-namespace account returns for a directory: an empty blob flagged hdi_isfolder.
    const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('markers');
    await container.getBlockBlobClient('table/data').upload('', 0, { metadata: { hdi_isfolder: 'true' } });
    expect(await listAll(io, lake('markers', 'table/'))).toEqual([{ location: lake('markers', 'table/data/f.parquet'), size: 3 }]);
    expect(await io.stat(lake('markers', 'table/data'))).toBeUndefined();
    expect(await io.stat(lake('markers', 'table/'))).toBeUndefined();
  });

  it('stages full blocks while streaming instead of holding the file in memory', async () => {
    const io = new AzureFileIO(keySettings());
    const location = lake('staging', 'big.parquet');
    const stream = await io.create(location);
    await stream.write(pattern(BLOCK_SIZE * 3 + 100));
    const blob = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('staging').getBlockBlobClient('big.parquet');
    const staged = await blob.getBlockList('uncommitted');
    expect(staged.uncommittedBlocks?.map((block) => block.size)).toEqual([BLOCK_SIZE, BLOCK_SIZE, BLOCK_SIZE]);
    expect(await io.stat(location)).toBeUndefined();
    expect(await stream.close()).toBe(BLOCK_SIZE * 3 + 100);
    const committed = await blob.getBlockList('committed');
    expect(committed.committedBlocks?.map((block) => block.size)).toEqual([BLOCK_SIZE, BLOCK_SIZE, BLOCK_SIZE, 100]);
  });

  it('refuses directory locations for file operations and accounts without credentials', async () => {
    const io = new AzureFileIO(keySettings());
    await expect(io.read(lake('forms', 'a/'))).rejects.toBeInstanceOf(ValidationError);
    await expect(io.write(lake('forms'), pattern(1))).rejects.toBeInstanceOf(ValidationError);
    const other = io.read('abfss://forms@someoneelse.dfs.core.windows.net/x');
    await expect(other).rejects.toBeInstanceOf(ValidationError);
    await expect(other).rejects.toThrow("No Azure credentials are configured for storage account 'someoneelse'");
  });

  it('works through createFileIO and ResolvingFileIO', async () => {
    const settings = { azure: keySettings() };
    const location = lake('resolving', 'x.bin');
    await createFileIO(location, settings).write(location, pattern(4));
    const resolving = new ResolvingFileIO(settings);
    expect(digest(await resolving.read(location))).toEqual(digest(pattern(4)));
    await resolving.write('memory://m/x', pattern(2));
    expect(await resolving.stat('memory://m/x')).toEqual({ location: 'memory://m/x', size: 2 });
    expect(() => createFileIO(location)).toThrow(ValidationError);
  });
});

describe('Azure errors never carry secrets', () => {
  // Well-formed base64, so it is used for signing rather than rejected up front, and easy to search for.
  const wrongKey = Buffer.from('WRONG-KEY-'.repeat(6)).toString('base64');

  it('maps a refused account key to an access-denied error naming operation, location and status only', async () => {
    const io = new AzureFileIO({
      accounts: [{ accountName: azurite.accountName, accountKey: wrongKey, blobEndpoint: azurite.blobEndpoint }],
    });
    const location = lake('secrets', 'file.bin');
    const attempts = [
      () => io.read(location),
      () => io.write(location, pattern(3), { exclusive: true }),
      () => io.write(location, pattern(BLOCK_SIZE * 3)),
      () => listAll(io, lake('secrets', 'x/')),
    ];
    for (const attempt of attempts) {
      const error = await caught(attempt());
      expect(error).toBeInstanceOf(IcebridgeError);
      expect(error).toMatchObject({ code: 'STORAGE_ACCESS_DENIED', retryable: false });
      expect((error as Error).message).toMatch(/^Azure \w+ of abfss:\/\/secrets@devstoreaccount1\.dfs\.core\.windows\.net\/\S* failed: HTTP 403/);
      expect((error as Error).cause).toBeUndefined();
      for (const text of renderings(error)) expect(text).not.toContain(wrongKey);
    }
  });

  it('keeps a wrong connection string out of the error', async () => {
    const connectionString = azurite.connectionString.replace(azurite.accountKey, wrongKey);
    const io = new AzureFileIO({ accounts: [{ connectionString }] });
    const error = await caught(io.write(lake('secrets', 'cs.bin'), pattern(3)));
    expect(error).toMatchObject({ code: 'STORAGE_ACCESS_DENIED' });
    for (const text of renderings(error)) {
      expect(text).not.toContain(wrongKey);
      expect(text).not.toContain('AccountKey');
    }
  });

  it('does not echo a malformed connection string', () => {
    const secret = 'SharedAccessSignature=sv=2024&sig=TOPSECRET';
    const error = (() => {
      try {
        new AzureFileIO({ accounts: [{ connectionString: secret }] });
      } catch (thrown) {
        return thrown;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ValidationError);
    for (const text of renderings(error)) expect(text).not.toContain('TOPSECRET');
  });
});

describe('Azure transient failures are retryable and bounded in time', () => {
  it('fails fast and retryable when nothing listens on the endpoint', async () => {
    const port = await closedPort();
    // A 10-minute operation timeout: a refusal that were waited out instead of failing fast would take minutes,
    // so the bound below can be generous and still tell the two apart on a loaded machine.
    const io = new AzureFileIO(endpointSettings(loopback(port), { operationTimeoutInMs: 600_000 }));
    const started = Date.now();
    const error = await caught(io.read(lake('down', 'x')));
    expect(Date.now() - started).toBeLessThan(120_000);
    expect(error).toMatchObject({ code: 'STORAGE_UNAVAILABLE', retryable: true });
    expect((error as Error).message).toContain('network error ECONNREFUSED');
    for (const text of renderings(error)) expect(text).not.toContain(azurite.accountKey);
  }, 180_000);

  it('times out a server that accepts connections but never answers', async () => {
    const silent = net.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;
    try {
      const io = new AzureFileIO(endpointSettings(loopback(port), { operationTimeoutInMs: 500 }));
      const started = Date.now();
      const error = await caught(io.stat(lake('silent', 'x')));
      const elapsedInMs = Date.now() - started;
      // It waited for the 500 ms it was given, and gave up long before the 30 s default would have.
      expect(elapsedInMs).toBeGreaterThanOrEqual(450);
      expect(elapsedInMs).toBeLessThan(20_000);
      expect(error).toMatchObject({ code: 'STORAGE_TIMEOUT', retryable: true });
    } finally {
      silent.close();
    }
  });

  it('retries a busy server, except for exclusive creates, whose retry could meet its own write', async () => {
    const requests: string[] = [];
    const busy = http.createServer((request, response) => {
      requests.push(request.method ?? '');
      request.resume();
      response.writeHead(503, { 'x-ms-error-code': 'ServerBusy' }).end();
    });
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const { port } = busy.address() as net.AddressInfo;
    try {
      const io = new AzureFileIO(endpointSettings(loopback(port), { maxTries: 3, retryDelayInMs: 10 }));
      const plain = await caught(io.write(lake('busy', 'data.bin'), pattern(10)));
      expect(plain).toMatchObject({ code: 'STORAGE_UNAVAILABLE', retryable: true });
      expect((plain as Error).message).toContain('HTTP 503 ServerBusy');
      expect(requests).toHaveLength(3);

      requests.length = 0;
      const exclusive = await caught(io.write(lake('busy', 'v1.metadata.json'), pattern(10), { exclusive: true }));
      expect(exclusive).toMatchObject({ code: 'STORAGE_UNAVAILABLE', retryable: true });
      expect(requests).toEqual(['PUT']);
    } finally {
      busy.close();
    }
  });

  it('reports the caller aborting a request in flight as ABORTED, not as a timeout', async () => {
    const io = new AzureFileIO(keySettings());
    const location = lake('aborts', 'big.bin');
    await io.write(location, pattern(BLOCK_SIZE * 20));
    const controller = new AbortController();
    const reading = io.read(location, { abortSignal: controller.signal });
    controller.abort();
    await expect(reading).rejects.toMatchObject({ code: 'ABORTED', retryable: false });
  });
});

describe('AzureDataLake on an account without hierarchical namespace', () => {
  it('detects that Azurite has no hierarchical namespace', async () => {
    const lakeOps = new AzureDataLake(keySettings());
    expect(await lakeOps.hasHierarchicalNamespace(lake('hns-check'))).toBe(false);
  });

  it('deletes a directory tree by listing blobs, leaving siblings with a shared name prefix alone', async () => {
    const settings = keySettings();
    const io = new AzureFileIO(settings);
    const lakeOps = new AzureDataLake(settings);
    const names = ['t/metadata/v1.json', 't/data/a=1/f1.parquet', 't/data/a=2/f2.parquet', 't2/keep.json', 'top.json'];
    for (const name of names) await io.write(lake('drop', name), pattern(5));
    for (let i = 0; i < 40; i++) await io.write(lake('drop', `t/data/many/f${i}.parquet`), pattern(1));

    const result = await lakeOps.deleteDirectory(lake('drop', 't'), { concurrency: 4 });
    expect(result).toEqual({ usedHierarchicalNamespace: false, deletedFiles: 43 });
    const remaining = (await listAll(io, lake('drop'))).map((file) => file.location);
    expect(remaining).toEqual([lake('drop', 't2/keep.json'), lake('drop', 'top.json')]);
    const missing = await lakeOps.deleteDirectory(lake('drop', 'missing/'));
    expect(missing).toEqual({ usedHierarchicalNamespace: false, deletedFiles: 0 });
  });

  it('refuses to delete a whole container', async () => {
    const lakeOps = new AzureDataLake(keySettings());
    await expect(lakeOps.deleteDirectory(lake('drop', ''))).rejects.toBeInstanceOf(ValidationError);
  });
});

/** A loopback port nothing listens on: probed free, then closed again. */
async function closedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
