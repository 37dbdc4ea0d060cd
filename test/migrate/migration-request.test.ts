/**
 * Every reason parseMigrationRequest (the HTTP body and the CLI's options) can refuse a request for, one row per
 * reason with the message a person acts on, and the defaults of a request that is accepted.
 */
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../shared/errors';
import { parseMigrationRequest } from '../../shared/migrate/migration-request';
import { parseTableConfig } from '../../shared/run/request-fields';

const name64 = 'n'.repeat(64);
/** 32 characters but 64 UTF-8 bytes: over PostgreSQL's limit although short in characters. */
const wide64 = 'é'.repeat(32);

/** A body with one field set (or replaced) on top of an otherwise valid request. */
function withField(field: string, value: unknown): Record<string, unknown> {
  return { schema: 'public', tables: ['orders'], [field]: value };
}

function tableConfig(config: unknown): Record<string, unknown> {
  return withField('tableConfig', { orders: config });
}

const refused: Array<{ reason: string; body: unknown; message: RegExp }> = [
  { reason: 'body is null', body: null, message: /^the request body must be a JSON object$/ },
  { reason: 'body is an array', body: [], message: /^the request body must be a JSON object$/ },
  { reason: 'body is a string', body: 'public', message: /^the request body must be a JSON object$/ },
  {
    reason: 'an unknown field',
    body: withField('sourceUrl', 'postgres://x'),
    message: /^the request body has unknown field "sourceUrl"; allowed: schema, namespace/,
  },
  { reason: 'two unknown fields', body: { a: 1, b: 2 }, message: /^the request body has unknown fields "a", "b"; allowed: / },
  { reason: 'schema not a string', body: withField('schema', 5), message: /^schema must be a non-empty string$/ },
  { reason: 'schema empty', body: withField('schema', ''), message: /^schema must be a non-empty string$/ },
  { reason: 'schema over 63 characters', body: withField('schema', name64), message: /^schema is longer than 63 characters$/ },
  { reason: 'schema over 63 bytes', body: withField('schema', wide64), message: /^schema is longer than PostgreSQL's 63-byte identifier limit$/ },
  { reason: 'schema with NUL', body: withField('schema', 'pub\u0000lic'), message: /^schema must not contain NUL characters$/ },
  { reason: 'namespace empty', body: withField('namespace', ''), message: /^namespace must be a non-empty string$/ },
  { reason: 'namespace over 255 characters', body: withField('namespace', 'n'.repeat(256)), message: /^namespace is longer than 255 characters$/ },
  { reason: 'namespace not a string', body: withField('namespace', ['a']), message: /^namespace must be a non-empty string$/ },
  { reason: 'concurrency 0', body: withField('concurrency', 0), message: /^concurrency must be an integer from 1 to 64$/ },
  { reason: 'concurrency 65', body: withField('concurrency', 65), message: /^concurrency must be an integer from 1 to 64$/ },
  { reason: 'concurrency not an integer', body: withField('concurrency', 1.5), message: /^concurrency must be an integer from 1 to 64$/ },
  { reason: 'concurrency as a string', body: withField('concurrency', '2'), message: /^concurrency must be an integer from 1 to 64$/ },
  { reason: 'concurrency null', body: withField('concurrency', null), message: /^concurrency must be an integer from 1 to 64$/ },
  { reason: 'verify unknown', body: withField('verify', 'fast'), message: /^verify must be "quick", "full" or "none"$/ },
  { reason: 'verify as a boolean', body: withField('verify', true), message: /^verify must be "quick", "full" or "none"$/ },
  { reason: 'verify null', body: withField('verify', null), message: /^verify must be "quick", "full" or "none"$/ },
  { reason: 'cdc as a string', body: withField('cdc', 'yes'), message: /^cdc must be true or false$/ },
  { reason: 'cdc as a number', body: withField('cdc', 1), message: /^cdc must be true or false$/ },
  { reason: 'tables not an array', body: withField('tables', 'orders'), message: /^tables must be a non-empty array of names$/ },
  { reason: 'tables empty', body: withField('tables', []), message: /^tables must be a non-empty array of names$/ },
  {
    reason: 'tables over 10000 names',
    body: withField(
      'tables',
      Array.from({ length: 10_001 }, (_, i) => `t${i}`),
    ),
    message: /^tables has more than 10000 names$/,
  },
  { reason: 'a table name not a string', body: withField('tables', ['orders', 7]), message: /^tables\[1\] must be a non-empty string$/ },
  { reason: 'a table name empty', body: withField('tables', ['']), message: /^tables\[0\] must be a non-empty string$/ },
  { reason: 'a table name over 63 bytes', body: withField('tables', [wide64]), message: /^tables\[0\] is longer than PostgreSQL's 63-byte identifier limit$/ },
  { reason: 'a table name over 63 characters', body: withField('tables', [name64]), message: /^tables\[0\] is longer than 63 characters$/ },
  { reason: 'duplicate tables', body: withField('tables', ['orders', 'users', 'orders']), message: /^tables names "orders" twice$/ },
  {
    reason: 'partitionSizeInBytes below 1 MiB',
    body: withField('partitionSizeInBytes', 2 ** 20 - 1),
    message: /^partitionSizeInBytes must be an integer from 1048576 to 17179869184$/,
  },
  {
    reason: 'partitionSizeInBytes above 16 GiB',
    body: withField('partitionSizeInBytes', 2 ** 34 + 1),
    message: /^partitionSizeInBytes must be an integer from 1048576 to 17179869184$/,
  },
  {
    reason: 'partitionSizeInBytes not an integer',
    body: withField('partitionSizeInBytes', 2 ** 20 + 0.5),
    message: /^partitionSizeInBytes must be an integer/,
  },
  { reason: 'idempotencyKey empty', body: withField('idempotencyKey', ''), message: /^idempotencyKey must be 1-64 letters, digits, "-" or "_"$/ },
  { reason: 'idempotencyKey over 64 characters', body: withField('idempotencyKey', 'k'.repeat(65)), message: /^idempotencyKey must be 1-64/ },
  { reason: 'idempotencyKey with a slash', body: withField('idempotencyKey', '../runs'), message: /^idempotencyKey must be 1-64/ },
  { reason: 'idempotencyKey with a space', body: withField('idempotencyKey', 'orders 2026'), message: /^idempotencyKey must be 1-64/ },
  { reason: 'idempotencyKey not ASCII', body: withField('idempotencyKey', 'bestellungen-ü'), message: /^idempotencyKey must be 1-64/ },
  { reason: 'idempotencyKey a number', body: withField('idempotencyKey', 42), message: /^idempotencyKey must be 1-64/ },
  { reason: 'tableConfig not an object', body: withField('tableConfig', ['orders']), message: /^tableConfig must be a JSON object$/ },
  { reason: 'tableConfig key empty', body: withField('tableConfig', { '': {} }), message: /^tableConfig key must be a non-empty string$/ },
  {
    reason: 'tableConfig key over 63 bytes',
    body: withField('tableConfig', { [wide64]: {} }),
    message: /^tableConfig key is longer than PostgreSQL's 63-byte identifier limit$/,
  },
  { reason: 'a table config not an object', body: tableConfig('orders_v2'), message: /^tableConfig\.orders must be a JSON object$/ },
  {
    reason: 'a table config with an unknown field',
    body: tableConfig({ target: 'x' }),
    message: /^tableConfig\.orders has unknown field "target"; allowed: targetName, partitionSpec, key, excludeColumns$/,
  },
  { reason: 'targetName empty', body: tableConfig({ targetName: '' }), message: /^tableConfig\.orders\.targetName must be a non-empty string$/ },
  {
    reason: 'targetName over 255 characters',
    body: tableConfig({ targetName: 't'.repeat(256) }),
    message: /^tableConfig\.orders\.targetName is longer than 255 characters$/,
  },
  { reason: 'key empty', body: tableConfig({ key: [] }), message: /^tableConfig\.orders\.key must be a non-empty array of names$/ },
  { reason: 'key names a column twice', body: tableConfig({ key: ['id', 'id'] }), message: /^tableConfig\.orders\.key names "id" twice$/ },
  {
    reason: 'key column over 63 bytes',
    body: tableConfig({ key: [wide64] }),
    message: /^tableConfig\.orders\.key\[0\] is longer than PostgreSQL's 63-byte identifier limit$/,
  },
  {
    reason: 'excludeColumns not an array',
    body: tableConfig({ excludeColumns: 'note' }),
    message: /^tableConfig\.orders\.excludeColumns must be a non-empty array of names$/,
  },
  {
    reason: 'excludeColumns with an empty name',
    body: tableConfig({ excludeColumns: [''] }),
    message: /^tableConfig\.orders\.excludeColumns\[0\] must be a non-empty string$/,
  },
  {
    reason: 'partitionSpec not an array',
    body: tableConfig({ partitionSpec: { source: 'id', transform: 'identity' } }),
    message: /^tableConfig\.orders\.partitionSpec must be an array$/,
  },
  {
    reason: 'a partition field not an object',
    body: tableConfig({ partitionSpec: ['id'] }),
    message: /^tableConfig\.orders\.partitionSpec\[0\] must be a JSON object$/,
  },
  {
    reason: 'a partition field with an unknown field',
    body: tableConfig({ partitionSpec: [{ source: 'id', transform: 'identity', width: 4 }] }),
    message: /^tableConfig\.orders\.partitionSpec\[0\] has unknown field "width"; allowed: source, transform, name$/,
  },
  {
    reason: 'a partition field without transform',
    body: tableConfig({ partitionSpec: [{ source: 'id' }] }),
    message: /^tableConfig\.orders\.partitionSpec\[0\]\.transform must be a non-empty string$/,
  },
  {
    reason: 'an unknown transform',
    body: tableConfig({ partitionSpec: [{ source: 'id', transform: 'weekly' }] }),
    message: /^tableConfig\.orders\.partitionSpec\[0\]\.transform "weekly" is not one of identity, bucket\[N\], truncate\[W\], year, month, day, hour, void$/,
  },
  {
    reason: 'a transform over 64 characters',
    body: tableConfig({ partitionSpec: [{ source: 'id', transform: `bucket[${'1'.repeat(60)}]` }] }),
    message: /^tableConfig\.orders\.partitionSpec\[0\]\.transform is longer than 64 characters$/,
  },
  {
    reason: 'a partition field without source',
    body: tableConfig({ partitionSpec: [{ transform: 'day' }] }),
    message: /^tableConfig\.orders\.partitionSpec\[0\]\.source must be a non-empty string$/,
  },
  {
    reason: 'a partition source over 63 bytes',
    body: tableConfig({ partitionSpec: [{ source: wide64, transform: 'day' }] }),
    message: /^tableConfig\.orders\.partitionSpec\[0\]\.source is longer than PostgreSQL's 63-byte identifier limit$/,
  },
  {
    reason: 'a partition field name empty',
    body: tableConfig({ partitionSpec: [{ source: 'id', transform: 'day', name: '' }] }),
    message: /^tableConfig\.orders\.partitionSpec\[0\]\.name must be a non-empty string$/,
  },
];

describe('parseMigrationRequest refuses', () => {
  it.each(refused)('$reason', ({ body, message }) => {
    let thrown: unknown;
    try {
      parseMigrationRequest(body);
    } catch (error) {
      thrown = error;
    }
    expect(thrown, 'the request was accepted').toBeInstanceOf(ValidationError);
    expect((thrown as ValidationError).message).toMatch(message);
  });
});

describe('parseMigrationRequest accepts', () => {
  it('an empty body, with the defaults: schema public, namespace = schema, concurrency 2, verify quick', () => {
    expect(parseMigrationRequest({})).toEqual({ schema: 'public', namespace: 'public', concurrency: 2, verify: 'quick' });
  });

  it('cdc: true kept, false the same as absent', () => {
    expect(parseMigrationRequest({ cdc: true })).toEqual({ schema: 'public', namespace: 'public', concurrency: 2, verify: 'quick', cdc: true });
    expect(parseMigrationRequest({ cdc: false })).toEqual(parseMigrationRequest({}));
  });

  it('the namespace defaulting to a given schema', () => {
    expect(parseMigrationRequest({ schema: 'sales' })).toMatchObject({ schema: 'sales', namespace: 'sales' });
  });

  it('every field at its limits', () => {
    const body = {
      schema: 's'.repeat(63),
      namespace: 'n'.repeat(255),
      tables: ['orders', 'é'.repeat(31)],
      concurrency: 64,
      partitionSizeInBytes: 2 ** 34,
      idempotencyKey: `${'k'.repeat(62)}-_`,
      verify: 'none',
      tableConfig: {
        orders: {
          targetName: 'orders_v2',
          key: ['id'],
          excludeColumns: ['internal_note'],
          partitionSpec: [
            { source: 'ordered_at', transform: 'day' },
            { source: 'id', transform: 'bucket[16]', name: 'id_bucket' },
          ],
        },
      },
    };
    expect(parseMigrationRequest(body)).toEqual(body);
    expect(parseMigrationRequest({ concurrency: 1, partitionSizeInBytes: 2 ** 20, verify: 'full' })).toMatchObject({
      concurrency: 1,
      partitionSizeInBytes: 2 ** 20,
      verify: 'full',
    });
  });

  it("the same table configuration from the CLI's config file, named after the file", () => {
    expect(parseTableConfig({ orders: { key: ['id'] } })).toEqual({ orders: { key: ['id'] } });
    expect(() => parseTableConfig([], 'tables.json')).toThrow(/^tables\.json must be a JSON object$/);
    expect(() => parseTableConfig({ orders: { keys: ['id'] } })).toThrow(/^the table configuration\.orders has unknown field "keys"/);
  });
});
