import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../shared/errors';
import { parsePostgresUrl, redactUrl } from '../../shared/postgres/connection';
import { isPostgresUrl, libpqUrl, passwordFromFile, resolveSourceUrl } from '../../shared/postgres/source-url';

const SECRET = 'S3cr:et@p\\ss';

describe('the source from the environment', () => {
  let dir: string;
  let pgpass: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'icebridge-pgpass-'));
    pgpass = path.join(dir, 'pgpass');
    await writeFile(
      pgpass,
      [
        '# comment lines are skipped: db.example.com:5432:*:*:not-this-one',
        'db.example.com:5432:shop:reader:S3cr\\:et@p\\\\ss',
        'db.example.com:*:*:admin:wildcard-port',
        '*:*:*:*:anything-else',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    await chmod(pgpass, 0o600);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prefers --source, then ICEBRIDGE_SOURCE_URL, then the libpq variables', async () => {
    const env = { ICEBRIDGE_SOURCE_URL: 'postgres://u:p@setting/db', PGHOST: 'libpq', PGUSER: 'u', PGPASSWORD: 'p' };
    expect(await resolveSourceUrl('postgres://u:p@flag/db', { env })).toEqual({ url: 'postgres://u:p@flag/db', origin: 'flag' });
    expect(await resolveSourceUrl(undefined, { env })).toEqual({ url: 'postgres://u:p@setting/db', origin: 'ICEBRIDGE_SOURCE_URL' });
    const { ICEBRIDGE_SOURCE_URL: _, ...libpq } = env;
    expect((await resolveSourceUrl(undefined, { env: libpq })).origin).toBe('libpq environment');
  });

  it('builds the URL from PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE and PGSSLMODE with libpq defaults', async () => {
    const url = libpqUrl({ PGHOST: 'db.example.com', PGPORT: '6543', PGUSER: 'reader', PGPASSWORD: SECRET, PGDATABASE: 'shop', PGSSLMODE: 'require' });
    const parsed = parsePostgresUrl(url);
    expect(parsed.target).toEqual({ host: 'db.example.com', port: 6543, database: 'shop', user: 'reader' });
    expect(parsed.password).toBe(SECRET);
    expect(parsed.ssl).toBeTruthy();
    expect(parsePostgresUrl(libpqUrl({ PGUSER: 'reader' })).target).toEqual({ host: 'localhost', port: 5432, database: 'reader', user: 'reader' });
    expect(parsePostgresUrl(libpqUrl({ PGHOST: '::1', PGUSER: 'u' })).target.host).toBe('::1');
    expect(() => libpqUrl({ PGPORT: 'five' })).toThrow(/PGPORT/);
  });

  it('takes a missing password from the password file, by host, port, database and user, with escapes', async () => {
    const env = { PGHOST: 'db.example.com', PGUSER: 'reader', PGDATABASE: 'shop', PGPASSFILE: pgpass };
    const { url } = await resolveSourceUrl(undefined, { env });
    expect(parsePostgresUrl(url).password).toBe(SECRET);
    expect(redactUrl(url)).not.toContain('S3cr');
    expect(await passwordFromFile({ host: 'db.example.com', port: 1, database: 'x', user: 'admin' }, { PGPASSFILE: pgpass })).toBe('wildcard-port');
    expect(await passwordFromFile({ host: 'other', port: 5432, database: 'shop', user: 'reader' }, { PGPASSFILE: pgpass })).toBe('anything-else');
    // A URL given without a password gets one the same way; one with a password keeps it.
    const flag = await resolveSourceUrl('postgres://reader@db.example.com:5432/shop', { env: { PGPASSFILE: pgpass } });
    expect(parsePostgresUrl(flag.url).password).toBe(SECRET);
    expect((await resolveSourceUrl('postgres://reader:given@db.example.com/shop', { env: { PGPASSFILE: pgpass } })).url).toBe(
      'postgres://reader:given@db.example.com/shop',
    );
  });

  it('reads ~/.pgpass when PGPASSFILE is not set, and PGPASSWORD wins over the file', async () => {
    const home = path.join(dir, 'home');
    await rm(home, { recursive: true, force: true });
    await mkdir(home);
    await writeFile(path.join(home, '.pgpass'), 'localhost:5432:db:me:from-home\n', { mode: 0o600 });
    const env = { HOME: home, PGUSER: 'me', PGDATABASE: 'db' };
    expect(parsePostgresUrl((await resolveSourceUrl(undefined, { env })).url).password).toBe('from-home');
    expect(parsePostgresUrl((await resolveSourceUrl(undefined, { env: { ...env, PGPASSWORD: 'from-env' } })).url).password).toBe('from-env');
  });

  it('adds no libpq password when logins use an Entra token (ICEBRIDGE_SOURCE_AUTH=entra)', async () => {
    const home = path.join(dir, 'home-entra');
    await rm(home, { recursive: true, force: true });
    await mkdir(home);
    await writeFile(path.join(home, '.pgpass'), '*:*:*:*:from-file\n', { mode: 0o600 });
    const env = { HOME: home, PGUSER: 'func-icebridge-dev', PGDATABASE: 'db', ICEBRIDGE_SOURCE_AUTH: 'entra' };
    expect(parsePostgresUrl((await resolveSourceUrl(undefined, { env })).url).password).toBeUndefined();
    expect(parsePostgresUrl((await resolveSourceUrl(undefined, { env: { ...env, PGPASSWORD: 'from-env' } })).url).password).toBeUndefined();
    const flag = await resolveSourceUrl('postgresql://func-icebridge-dev@db.example.com/db', { env: { ...env, PGPASSWORD: 'from-env' } });
    expect(parsePostgresUrl(flag.url).password).toBeUndefined();
    expect(parsePostgresUrl((await resolveSourceUrl(undefined, { env: { ...env, ICEBRIDGE_SOURCE_AUTH: 'password' } })).url).password).toBe('from-file');
  });

  it("ignores a password file with group or world access, with libpq's warning", async () => {
    const open = path.join(dir, 'open-pgpass');
    await writeFile(open, '*:*:*:*:too-open\n');
    await chmod(open, 0o644);
    const warnings: string[] = [];
    const { url } = await resolveSourceUrl(undefined, { env: { PGUSER: 'me', PGPASSFILE: open }, warn: (m) => warnings.push(m) });
    expect(parsePostgresUrl(url).password).toBeUndefined();
    expect(warnings).toEqual([`WARNING: password file "${open}" has group or world access; permissions should be u=rw (0600) or less`]);
  });

  it('takes postgres:// and postgresql:// URLs as sources, and nothing else', async () => {
    for (const url of ['postgres://h/db', 'postgresql://u@h:5432/db']) expect(isPostgresUrl(url), url).toBe(true);
    for (const text of ['mysql://h/db', 'postgres:/h/db', 'POSTGRES://h/db', ' postgres://h/db', 'snapshot.json', 'x-postgres://h/db', '']) {
      expect(isPostgresUrl(text), text).toBe(false);
    }
    await expect(resolveSourceUrl('postgresq://h/db', { env: {} })).rejects.toThrow('--source must be a postgres:// or postgresql:// URL');
  });

  it('says what to set when nothing describes a source, and never shows a malformed value', async () => {
    await expect(resolveSourceUrl(undefined, { env: {} })).rejects.toThrow(/ICEBRIDGE_SOURCE_URL.*PGHOST/);
    const error = await resolveSourceUrl(undefined, { env: { ICEBRIDGE_SOURCE_URL: `mysql://root:${SECRET}@h/db` } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(String(error)).not.toContain(SECRET);
  });
});
