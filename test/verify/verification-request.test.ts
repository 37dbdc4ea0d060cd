/**
 * Every reason parseVerificationRequest can refuse a body for: its own fields (level, maxDifferences, samples),
 * the fields it shares with a migration (validated by the same rules), and the migration-only ones it refuses.
 */
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../shared/errors';
import { parseLevel, parseVerificationRequest } from '../../shared/verify/verification-request';

function withField(field: string, value: unknown): Record<string, unknown> {
  return { schema: 'public', tables: ['orders'], [field]: value };
}

const refused: Array<{ reason: string; body: unknown; message: RegExp }> = [
  { reason: 'body is null', body: null, message: /^the request body must be a JSON object$/ },
  { reason: 'body is an array', body: [{}], message: /^the request body must be a JSON object$/ },
  { reason: 'an unknown field', body: withField('sourceUrl', 'postgres://x'), message: /^the request body has unknown field "sourceUrl"; allowed: / },
  { reason: 'the migration-only verify', body: withField('verify', 'full'), message: /^the request body has unknown field "verify"/ },
  {
    reason: 'the migration-only partitionSizeInBytes',
    body: withField('partitionSizeInBytes', 2 ** 20),
    message: /^the request body has unknown field "partitionSizeInBytes"/,
  },
  {
    reason: 'level none (a migration may skip verification; a verification cannot)',
    body: withField('level', 'none'),
    message: /^level must be "quick" or "full"$/,
  },
  { reason: 'level unknown', body: withField('level', 'deep'), message: /^level must be "quick" or "full"$/ },
  { reason: 'level null', body: withField('level', null), message: /^level must be "quick" or "full"$/ },
  { reason: 'maxDifferences negative', body: withField('maxDifferences', -1), message: /^maxDifferences must be an integer from 0 to 10000$/ },
  { reason: 'maxDifferences over 10000', body: withField('maxDifferences', 10_001), message: /^maxDifferences must be an integer from 0 to 10000$/ },
  { reason: 'maxDifferences not an integer', body: withField('maxDifferences', 2.5), message: /^maxDifferences must be an integer from 0 to 10000$/ },
  { reason: 'samples negative', body: withField('samples', -1), message: /^samples must be an integer from 0 to 1000$/ },
  { reason: 'samples over 1000', body: withField('samples', 1_001), message: /^samples must be an integer from 0 to 1000$/ },
  { reason: 'samples as a string', body: withField('samples', '10'), message: /^samples must be an integer from 0 to 1000$/ },
  {
    reason: 'a partitionSpec in tableConfig',
    body: withField('tableConfig', { orders: { partitionSpec: [{ source: 'id', transform: 'identity' }] } }),
    message: /^tableConfig\.orders\.partitionSpec does not apply to a verification$/,
  },
  { reason: 'concurrency 0 (shared rule)', body: withField('concurrency', 0), message: /^concurrency must be an integer from 1 to 64$/ },
  { reason: 'concurrency 65 (shared rule)', body: withField('concurrency', 65), message: /^concurrency must be an integer from 1 to 64$/ },
  { reason: 'duplicate tables (shared rule)', body: withField('tables', ['a', 'a']), message: /^tables names "a" twice$/ },
  {
    reason: 'a table name over 63 bytes (shared rule)',
    body: withField('tables', ['é'.repeat(32)]),
    message: /^tables\[0\] is longer than PostgreSQL's 63-byte identifier limit$/,
  },
  {
    reason: 'a malformed idempotencyKey (shared rule)',
    body: withField('idempotencyKey', 'a/b'),
    message: /^idempotencyKey must be 1-64 letters, digits, "-" or "_"$/,
  },
  {
    reason: 'a tableConfig with an unknown field (shared rule)',
    body: withField('tableConfig', { orders: { keyColumns: ['id'] } }),
    message: /^tableConfig\.orders has unknown field "keyColumns"/,
  },
];

describe('parseVerificationRequest refuses', () => {
  it.each(refused)('$reason', ({ body, message }) => {
    let thrown: unknown;
    try {
      parseVerificationRequest(body);
    } catch (error) {
      thrown = error;
    }
    expect(thrown, 'the request was accepted').toBeInstanceOf(ValidationError);
    expect((thrown as ValidationError).message).toMatch(message);
  });
});

describe('parseVerificationRequest accepts', () => {
  it('an empty body, with the defaults: schema public, namespace = schema, concurrency 2, level quick', () => {
    expect(parseVerificationRequest({})).toEqual({ schema: 'public', namespace: 'public', concurrency: 2, level: 'quick' });
  });

  it('every field at its limits', () => {
    const body = {
      schema: 'sales',
      namespace: 'lake',
      tables: ['orders'],
      level: 'full',
      concurrency: 64,
      tableConfig: { orders: { targetName: 'orders_v2', key: ['id'], excludeColumns: ['note'] } },
      maxDifferences: 10_000,
      samples: 1_000,
      idempotencyKey: 'verify-orders_1',
    };
    expect(parseVerificationRequest(body)).toEqual(body);
    expect(parseVerificationRequest({ maxDifferences: 0, samples: 0 })).toMatchObject({ maxDifferences: 0, samples: 0 });
  });

  it('parseLevel names the field it was given', () => {
    expect(parseLevel(undefined)).toBe('quick');
    expect(() => parseLevel('none', '--level')).toThrow(/^--level must be "quick" or "full"$/);
  });
});
