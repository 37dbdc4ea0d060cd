/**
 * `icebridge weaviate resync` end to end: an Iceberg table on local disk (written through the real Parquet writer),
 * its class damaged in the Weaviate STAND-IN (test/support/weaviate-standin.ts; no Weaviate server can be installed
 * here), a dry run that changes nothing, a real run that restores it, and a class with cross-references refused.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { weaviateCommand } from '../../cli/commands/weaviate';
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
