/**
 * `icebridge weaviate resync` end to end: an Iceberg table on local disk (written through the real Parquet writer),
 * its class damaged in the Weaviate STAND-IN (test/support/weaviate-standin.ts; no Weaviate server can be installed
 * here), a dry run that changes nothing, a real run that restores it, and a class with cross-references refused;
 * the same over HTTP (POST /api/weaviate/classes/{class}/resync on the local host).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { weaviateCommand } from '../../cli/commands/weaviate';
import { LocalHost, silentHostLog } from '../../cli/local-host';
import { loadSettings } from '../../shared/config/settings';
import { objectId } from '../../shared/fanout/identity';
import type { Catalog } from '../../shared/iceberg/catalog/catalog';
import { DataFileWriter } from '../../shared/iceberg/parquet/data-file-writer';
import { createSchema } from '../../shared/iceberg/spec/schema';
import { currentSchema } from '../../shared/iceberg/spec/table-metadata';
import { fastAppend } from '../../shared/iceberg/transaction/table-operations';
import { environmentFromSettings } from '../../shared/run/environment';
import { type WeaviateStandin, startWeaviateStandin } from '../support/weaviate-standin';

const TABLE = { namespace: ['crm'], name: 'note' };
const SOURCE = { schema: 'crm', name: 'note' };
let dir: string;
let standin: WeaviateStandin;
let catalog: Catalog;

class Output {
  text = '';
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

async function run(...argv: string[]): Promise<{ status: number; out: string; err: string }> {
  const out = new Output();
  const err = new Output();
  const status = await weaviateCommand(['resync', '--warehouse', dir, '--table', 'crm.note', ...argv], out, err, {
    ICEBRIDGE_WEAVIATE_URL: standin.url,
    HOME: dir,
  });
  return { status, out: out.text, err: err.text };
}

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'weaviate-resync-'));
  standin = await startWeaviateStandin();
  catalog = environmentFromSettings(loadSettings({ ICEBRIDGE_WAREHOUSE: dir })).catalog;
  const schema = createSchema(
    [
      { id: 1, name: 'id', required: true, type: 'long' },
      { id: 2, name: 'body', required: false, type: 'string' },
    ],
    0,
    [1],
  );
  const { metadata } = await catalog.createTable(TABLE, { schema });
  const writer = new DataFileWriter({
    io: catalog.io,
    schema: currentSchema(metadata),
    partition: [],
    newLocation: () => `${metadata.location}/data/notes.parquet`,
  });
  await writer.writeRows([1n, 2n, 3n].map((id) => [id, `note number ${id}`]));
  await fastAppend(catalog, TABLE, { dataFiles: await writer.close() });
});
afterEach(async () => {
  await standin.close();
  await rm(dir, { recursive: true, force: true });
});

describe('icebridge weaviate resync (against the stand-in)', () => {
  it('a dry run changes nothing; the run restores the class to the snapshot', async () => {
    const first = await run();
    expect(first).toMatchObject({ status: 0, err: '' });
    expect(first.out).toMatch(/crm\.note -> class Note \(snapshot \d+\): 0 objects before; did create 3, replace 0, delete 0/);
    const objects = standin.objects.get('Note')!;
    objects.get(objectId(SOURCE, [2n]))!.properties.body = 'damaged';
    objects.delete(objectId(SOURCE, [3n]));
    const stray = '00000000-0000-4000-8000-000000000001';
    objects.set(stray, { class: 'Note', id: stray, properties: { source_key: '99', source_position: '0/0' }, creationTimeUnix: 0, lastUpdateTimeUnix: 0 });
    const before = JSON.stringify([...objects.entries()]);

    const dry = await run('--dry-run', '--json');
    expect(dry.status).toBe(0);
    expect(JSON.parse(dry.out)).toMatchObject({ className: 'Note', dryRun: true, before: 3, created: 1, replaced: 2, deleted: 1 });
    expect(JSON.stringify([...objects.entries()])).toBe(before);

    const real = await run('--reason', 'damaged by hand');
    expect(real.status).toBe(0);
    expect([...objects.values()].map((o) => `${String(o.properties.source_key)}:${String(o.properties.body)}`).sort()).toEqual([
      '1:note number 1',
      '2:note number 2',
      '3:note number 3',
    ]);
  });

  it('refuses a class that holds cross-references, and a malformed table name', async () => {
    await run();
    standin.classes.set('Author', { class: 'Author', vectorizer: 'none', properties: [] });
    standin.classes.get('Note')!.properties.push({ name: 'author', dataType: ['Author'] });
    const refused = await run();
    expect(refused.status).toBe(1);
    expect(refused.err).toMatch(/refused: class Note holds cross-references \(author\)/);
    const usage = await weaviateCommand(['resync', '--warehouse', dir, '--table', 'note'], new Output(), new Output(), {});
    expect(usage).toBe(2);
  });
});

describe('POST /api/weaviate/classes/{class}/resync (against the stand-in)', () => {
  it('needs an operator, checks the class, and resyncs (dry run first)', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { ICEBRIDGE_LOCAL_TOKEN: 'weaviate-test-token', ICEBRIDGE_WAREHOUSE: dir, ICEBRIDGE_WEAVIATE_URL: standin.url });
    const host = await LocalHost.load(
      async () => {
        await import('../../functions/http/weaviate.js');
      },
      { log: silentHostLog },
    );
    const listener = await host.listen(0);
    try {
      const post = async (className: string, body: unknown, token = 'weaviate-test-token'): Promise<{ status: number; body: Record<string, unknown> }> => {
        const response = await fetch(`${listener.url}/api/weaviate/classes/${className}/resync`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify(body),
        });
        return { status: response.status, body: (await response.json()) as Record<string, unknown> };
      };
      expect((await post('Note', { table: 'crm.note' }, 'wrong')).status).toBe(401);
      expect((await post('Note', { table: 'note' })).status).toBe(400);
      expect(await post('Other', { table: 'crm.note', dryRun: true })).toMatchObject({
        status: 400,
        body: { reason: 'crm.note is Weaviate class Note, not Other' },
      });
      expect(await post('Note', { table: 'crm.note', dryRun: true })).toMatchObject({ status: 200, body: { dryRun: true, created: 3, deleted: 0 } });
      expect(standin.classes.has('Note')).toBe(false);
      expect(await post('Note', { table: 'crm.note', reason: 'first load' })).toMatchObject({ status: 200, body: { dryRun: false, created: 3 } });
      expect(standin.objects.get('Note')!.size).toBe(3);
    } finally {
      await listener.close();
      await host.close();
      for (const name of ['ICEBRIDGE_LOCAL_TOKEN', 'ICEBRIDGE_WAREHOUSE', 'ICEBRIDGE_WEAVIATE_URL']) {
        if (saved[name] === undefined) delete process.env[name];
        else process.env[name] = saved[name];
      }
    }
  });
});
