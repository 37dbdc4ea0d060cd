import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../shared/errors';
import { formatAzureLocation, isAzureLocation, parseAzureLocation } from '../../../shared/iceberg/io/azure-location';

describe('parseAzureLocation', () => {
  it('parses the abfss form Spark and Synapse read', () => {
    const location = 'abfss://lake@acct01.dfs.core.windows.net/warehouse/db/t/metadata/v1.metadata.json';
    expect(parseAzureLocation(location)).toEqual({
      scheme: 'abfss',
      container: 'lake',
      accountName: 'acct01',
      endpointSuffix: 'core.windows.net',
      path: 'warehouse/db/t/metadata/v1.metadata.json',
    });
  });

  it('parses abfs, wasbs, sovereign clouds, container roots and directory prefixes', () => {
    expect(parseAzureLocation('abfs://lake@acct01.dfs.core.windows.net/x')).toMatchObject({
      scheme: 'abfs',
      path: 'x',
    });
    expect(parseAzureLocation('wasbs://data-1@acct01.blob.core.windows.net/a/b/')).toMatchObject({
      scheme: 'wasbs',
      container: 'data-1',
      path: 'a/b/',
    });
    expect(parseAzureLocation('abfss://lake@acct01.dfs.core.chinacloudapi.cn/x')).toMatchObject({
      endpointSuffix: 'core.chinacloudapi.cn',
    });
    expect(parseAzureLocation('abfss://lake@acct01.dfs.core.windows.net')).toMatchObject({ path: '' });
    expect(parseAzureLocation('abfss://lake@acct01.dfs.core.windows.net/')).toMatchObject({ path: '' });
  });

  it('keeps paths literally, as Hadoop does, including spaces and partition values', () => {
    expect(parseAzureLocation('abfss://lake@acct01.dfs.core.windows.net/t/data/name=a b%20c/f.parquet').path).toBe('t/data/name=a b%20c/f.parquet');
  });

  it('round-trips through formatAzureLocation', () => {
    for (const location of [
      'abfss://lake@acct01.dfs.core.windows.net/warehouse/t/',
      'abfs://lake@acct01.dfs.core.windows.net/a',
      'wasbs://lake@acct01.blob.core.windows.net/a/b.json',
      'abfss://lake@acct01.dfs.core.windows.net/',
    ]) {
      expect(formatAzureLocation(parseAzureLocation(location))).toBe(location);
    }
  });

  it.each([
    ['an unknown scheme', 's3://bucket/key', 'expected abfss://'],
    ['no container', 'abfss://acct01.dfs.core.windows.net/x', 'expected abfss://'],
    ['an empty container', 'abfss://@acct01.dfs.core.windows.net/x', 'container/filesystem name'],
    ['an upper-case container', 'abfss://Lake@acct01.dfs.core.windows.net/x', 'container/filesystem name'],
    ['a two-letter container', 'abfss://ab@acct01.dfs.core.windows.net/x', 'container/filesystem name'],
    ['a double hyphen', 'abfss://la--ke@acct01.dfs.core.windows.net/x', 'container/filesystem name'],
    ['abfss with a blob host', 'abfss://lake@acct01.blob.core.windows.net/x', '<account>.dfs.core.windows.net'],
    ['wasbs with a dfs host', 'wasbs://lake@acct01.dfs.core.windows.net/x', '<account>.blob.core.windows.net'],
    ['a bad account', 'abfss://lake@Acct_1.dfs.core.windows.net/x', 'storage account name'],
    ['a port', 'abfss://lake@acct01.dfs.core.windows.net:443/x', 'endpoint suffix'],
    ['an empty segment', 'abfss://lake@acct01.dfs.core.windows.net/a//b', 'empty'],
    ['a leading slash', 'abfss://lake@acct01.dfs.core.windows.net//a', 'empty'],
    ['a dot-dot segment', 'abfss://lake@acct01.dfs.core.windows.net/a/../b', "'..'"],
    ['a backslash', 'abfss://lake@acct01.dfs.core.windows.net/a\\b', 'backslash'],
  ])('rejects %s with a message saying what is wrong', (_label, location, fragment) => {
    expect(() => parseAzureLocation(location)).toThrow(ValidationError);
    expect(() => parseAzureLocation(location)).toThrow(fragment);
  });

  it('never echoes a SAS token pasted into a location', () => {
    const secret = 'sig=SUPERSECRETSIGNATURE';
    let message = '';
    try {
      parseAzureLocation(`abfss://lake@acct01.dfs.core.windows.net/a?sv=2024&${secret}`);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('query strings');
    expect(message).not.toContain('SUPERSECRET');
  });

  it('recognises Azure schemes', () => {
    expect(isAzureLocation('abfss://x@y.dfs.core.windows.net/')).toBe(true);
    expect(isAzureLocation('wasbs://x@y.blob.core.windows.net/')).toBe(true);
    expect(isAzureLocation('file:///tmp')).toBe(false);
    expect(isAzureLocation('https://y.blob.core.windows.net/x')).toBe(false);
  });
});
