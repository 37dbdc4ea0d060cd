/**
 * The inventory, the similarity smoke check and the resync, against the Weaviate STAND-IN
 * (test/support/weaviate-standin.ts; no Weaviate server can be installed here).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FanoutChange } from '../../shared/fanout/fanout-types';
import { objectId } from '../../shared/fanout/identity';
import { LocalHashEmbedder } from '../../shared/weaviate/embedders';
import { resyncClass } from '../../shared/weaviate/resync';
import { similarityCheck } from '../../shared/weaviate/similarity-check';
import { WeaviateConnection } from '../../shared/weaviate/weaviate-client';
import { weaviateInventory } from '../../shared/weaviate/weaviate-inventory';
import { WeaviateSink } from '../../shared/weaviate/weaviate-sink';
import { type WeaviateStandin, startWeaviateStandin } from '../support/weaviate-standin';
import { ACCOUNT, OPPORTUNITY, opportunity, upsert } from './weaviate-fixtures';

const WORDS = ['renewal', 'upsell', 'pilot', 'migration', 'support', 'licence', 'training', 'hardware', 'cloud', 'audit'];

let standin: WeaviateStandin;
let connection: WeaviateConnection;
let sink: WeaviateSink;

beforeEach(async () => {
  standin = await startWeaviateStandin();
  connection = new WeaviateConnection({ url: standin.url });
  sink = new WeaviateSink({ connection, embedder: new LocalHashEmbedder() });
  await sink.prepare([ACCOUNT, OPPORTUNITY]);
  const changes = Array.from({ length: 23 }, (_v, i) =>
    upsert(
      OPPORTUNITY,
      opportunity(i + 1, null, `${WORDS[i % 10]} deal ${i + 1}`, `${WORDS[(i * 3) % 10]} for ${WORDS[(i * 7) % 10]} number ${i + 1}`),
      BigInt(100 + i),
      i,
    ),
  );
  await sink.apply({ through: 122n, changes });
});
afterEach(async () => {
  await standin.close();
});

const plan = (): NonNullable<ReturnType<WeaviateSink['classPlans']['get']>> => sink.classPlans.get('sales.opportunity')!;

describe('the Weaviate inventory (against the stand-in)', () => {
  it('pages every object with the cursor, with its key and position, and no findings when all is well', async () => {
    const inventory = await sink.inventory(OPPORTUNITY, { pageSize: 5 });
    expect(inventory.live.size).toBe(23);
    expect(inventory.live.get('7')).toBe(106n);
    expect(inventory.newest).toBe(122n);
    expect(inventory.findings).toEqual([]);
    expect(inventory.figures).toMatchObject({ objects: 23, counted: 23, withVector: 23, versionsSeen: 'icebridge-hash@1 (23)' });
    // Five pages of five (the last one short), and the Aggregate count.
    expect(standin.requests.filter((r) => r === 'POST /v1/graphql').length).toBe(6);
  });

  it('misses an object deleted behind its back and finds a missing vector and another embedder', async () => {
    const objects = standin.objects.get('Opportunity')!;
    objects.delete(objectId(OPPORTUNITY, [3n]));
    delete objects.get(objectId(OPPORTUNITY, [4n]))!.vector;
    objects.get(objectId(OPPORTUNITY, [5n]))!.properties.embeddings_version = 'http:old-model@api.example.com';
    const inventory = await weaviateInventory(connection, plan(), new LocalHashEmbedder(), { pageSize: 5 });
    expect(inventory.live.size).toBe(22);
    expect(inventory.live.has('3')).toBe(false);
    expect(inventory.findings).toEqual(
      [
        { key: '4', problem: 'no vector' },
        { key: '5', problem: 'embeddings_version http:old-model@api.example.com, current icebridge-hash@1' },
      ].sort((a, b) => (objectId(OPPORTUNITY, [BigInt(a.key)]) < objectId(OPPORTUNITY, [BigInt(b.key)]) ? -1 : 1)),
    );
    expect(inventory.figures.withVector).toBe(21);
  });
});

describe('the Weaviate inventory of a class that is not there (against the stand-in)', () => {
  it('is empty, with a finding naming the class', async () => {
    standin.classes.delete('Opportunity');
    const inventory = await sink.inventory(OPPORTUNITY);
    expect(inventory.live.size).toBe(0);
    expect(inventory.findings).toEqual([{ key: 'class Opportunity', problem: 'class Opportunity does not exist in Weaviate' }]);
  });
});

describe('the similarity smoke check (against the stand-in)', () => {
  it('finds each sampled object first with its own vector', async () => {
    const report = await sink.similarity(OPPORTUNITY, { samples: 4 });
    expect(report).toMatchObject({ className: 'Opportunity', sampled: 4, passed: 4, failures: [] });
  });

  it('fails for an object whose stored vector is not the one of its text', async () => {
    const objects = standin.objects.get('Opportunity')!;
    const [first, second] = [...objects.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
    first!.vector = [...second!.vector!];
    const report = await similarityCheck(connection, plan(), new LocalHashEmbedder(), { samples: 23 });
    expect(report.sampled).toBe(23);
    expect(report.failures.map((f) => f.key)).toEqual([String(first!.properties.source_key)]);
    expect(report.failures[0]!.problem).toMatch(/found object .* first, not itself among the first 3|itself at distance/);
  });
});

describe('the Weaviate resync (against the stand-in)', () => {
  async function* rows(ids: number[]): AsyncGenerator<FanoutChange> {
    for (const id of ids)
      yield { ...upsert(OPPORTUNITY, opportunity(id, null, `${WORDS[(id - 1) % 10]} deal ${id}`, `restored ${id}`), 500n), op: 'insert', origin: 'load' };
  }

  it('a dry run counts and changes nothing; a real run restores the rows and deletes the rest', async () => {
    const objects = standin.objects.get('Opportunity')!;
    objects.get(objectId(OPPORTUNITY, [2n]))!.properties.name = 'damaged';
    objects.delete(objectId(OPPORTUNITY, [9n]));
    const before = JSON.stringify([...objects.entries()]);
    const wanted = [1, 2, 9, 30];
    const dry = await resyncClass({ sink, connection, table: OPPORTUNITY, rows: rows(wanted), dryRun: true, actor: 'test', log: { database: null } });
    expect(dry).toEqual({ table: 'sales.opportunity', className: 'Opportunity', dryRun: true, before: 22, created: 2, replaced: 2, deleted: 20 });
    expect(JSON.stringify([...objects.entries()])).toBe(before);

    const real = await resyncClass({ sink, connection, table: OPPORTUNITY, rows: rows(wanted), actor: 'test', log: { database: null } });
    expect(real).toEqual({ ...dry, dryRun: false });
    expect([...objects.values()].map((o) => o.properties.source_key).sort()).toEqual(['1', '2', '30', '9']);
    expect(objects.get(objectId(OPPORTUNITY, [2n]))!.properties).toMatchObject({ name: 'upsell deal 2', description: 'restored 2', source_position: '0/1F4' });
  });
});
