/**
 * The Weaviate sink against the Weaviate STAND-IN (test/support/weaviate-standin.ts, an in-memory server speaking
 * Weaviate's REST and GraphQL shapes; no Weaviate server can be installed here).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { objectId } from '../../shared/fanout/identity';
import { parseClassConfig } from '../../shared/weaviate/class-config';
import { LocalHashEmbedder } from '../../shared/weaviate/embedders';
import { WeaviateConnection } from '../../shared/weaviate/weaviate-client';
import { WeaviateApplyError, WeaviateSink } from '../../shared/weaviate/weaviate-sink';
import { type WeaviateStandin, startWeaviateStandin } from '../support/weaviate-standin';
import { ACCOUNT, OPPORTUNITY, opportunity, remove, upsert } from './weaviate-fixtures';

let standin: WeaviateStandin;
let sink: WeaviateSink;

beforeEach(async () => {
  standin = await startWeaviateStandin({ apiKey: 'standin-key' });
  sink = new WeaviateSink({ connection: new WeaviateConnection({ url: standin.url, apiKey: 'standin-key' }), embedder: new LocalHashEmbedder() });
});
afterEach(async () => {
  await standin.close();
});

function stored(className: string, id: string): Record<string, unknown> | undefined {
  return standin.objects.get(className)?.get(id)?.properties;
}

describe('the Weaviate sink (against the stand-in)', () => {
  it('creates the classes once, the references after the classes, and again nothing', async () => {
    await sink.prepare([OPPORTUNITY, ACCOUNT]);
    const creates = standin.requests.filter((r) => r === 'POST /v1/schema').length;
    expect(creates).toBe(3);
    expect([...standin.classes.keys()].sort()).toEqual(['Account', 'IcebridgeCheckpoint', 'Opportunity']);
    const reference = standin.classes.get('Opportunity')!.properties.find((p) => p.name === 'account');
    expect(reference?.dataType).toEqual(['Account']);
    expect(standin.classes.get('Opportunity')!.properties.find((p) => p.name === 'row_id')?.dataType).toEqual(['int']);
    await sink.prepare([OPPORTUNITY, ACCOUNT]);
    expect(standin.requests.filter((r) => r === 'POST /v1/schema' || r.endsWith('/properties')).length).toBe(creates + 1);
  });

  it('applies a batch, and the same batch again changes nothing', async () => {
    await sink.prepare([ACCOUNT, OPPORTUNITY]);
    const batch = {
      through: 200n,
      changes: [
        upsert(ACCOUNT, [1n, 'Contoso'], 100n),
        upsert(OPPORTUNITY, opportunity(10, 1, 'Renewal', 'three year renewal'), 150n),
        upsert(OPPORTUNITY, opportunity(10, 1, 'Renewal 2027', 'three year renewal'), 200n, 1),
      ],
    };
    await sink.apply(batch);
    const id = objectId(OPPORTUNITY, [10n]);
    const first = structuredClone(standin.objects.get('Opportunity')!.get(id));
    expect(first?.properties).toMatchObject({
      name: 'Renewal 2027',
      row_id: 10,
      amount: '1234.56',
      counter: 7,
      closes: '2024-10-04T00:00:00Z',
      updated: '2023-11-14T22:13:20.123456Z',
      tags: ['hot', 'q4'],
      source_key: '10',
      source_position: '0/C8',
      embeddings_version: 'icebridge-hash@1',
      account: [{ beacon: `weaviate://localhost/Account/${objectId(ACCOUNT, [1n])}` }],
    });
    expect(first?.vector).toHaveLength(256);
    expect(await sink.checkpoint()).toBe(200n);
    await sink.apply(batch);
    const second = standin.objects.get('Opportunity')!.get(id)!;
    expect({ ...second, lastUpdateTimeUnix: 0, creationTimeUnix: 0 }).toEqual({ ...first, lastUpdateTimeUnix: 0, creationTimeUnix: 0 });
    expect(standin.objects.get('Opportunity')!.size).toBe(1);
  });

  it('after a crash between the objects and the checkpoint, the replay writes the same objects and then the checkpoint', async () => {
    await sink.prepare([ACCOUNT]);
    const batch = { through: 40n, changes: [upsert(ACCOUNT, [1n, 'A'], 30n), upsert(ACCOUNT, [2n, 'B'], 40n), remove(ACCOUNT, [1n], 40n, 1)] };
    standin.rejectObject = (object) => (object.class === 'IcebridgeCheckpoint' ? 'disk full' : undefined);
    await expect(sink.apply(batch)).rejects.toThrow(/refused 1 of 1 objects: object [0-9a-f-]+: "disk full"/);
    expect(await sink.checkpoint()).toBe(0n);
    const written = JSON.stringify([...standin.objects.get('Account')!.values()].map((o) => [o.id, o.properties, o.vector]));
    standin.rejectObject = undefined;
    await sink.apply(batch);
    expect(await sink.checkpoint()).toBe(40n);
    expect(JSON.stringify([...standin.objects.get('Account')!.values()].map((o) => [o.id, o.properties, o.vector]))).toBe(written);
    expect([...standin.objects.get('Account')!.values()].map((o) => o.properties.name)).toEqual(['B']);
  });

  it('skips changes at or before the checkpoint, so a replay after a crash does not undo newer ones', async () => {
    await sink.prepare([ACCOUNT]);
    await sink.apply({ through: 300n, changes: [upsert(ACCOUNT, [1n, 'Newer'], 300n)] });
    await sink.apply({ through: 200n, changes: [upsert(ACCOUNT, [1n, 'Older'], 200n)] });
    expect(stored('Account', objectId(ACCOUNT, [1n]))?.name).toBe('Newer');
    expect(await sink.checkpoint()).toBe(300n);
  });

  it('deletes the object of a delete, and a delete replayed is harmless', async () => {
    await sink.prepare([ACCOUNT]);
    await sink.apply({ through: 10n, changes: [upsert(ACCOUNT, [1n, 'A'], 10n), upsert(ACCOUNT, [2n, 'B'], 10n, 1)] });
    const deletion = { through: 20n, changes: [remove(ACCOUNT, [1n], 20n)] };
    await sink.apply(deletion);
    await sink.apply({ ...deletion, through: undefined });
    expect([...standin.objects.get('Account')!.values()].map((o) => o.properties.name)).toEqual(['B']);
  });

  it('keeps a long of 2^60 exact as text when configured, and refuses it by default naming table, column and key', async () => {
    await sink.prepare([ACCOUNT, OPPORTUNITY]);
    const big = 2n ** 60n + 1n;
    await expect(sink.apply({ through: 5n, changes: [upsert(OPPORTUNITY, opportunity(11, null, 'Big', null, big), 5n)] })).rejects.toThrow(
      /table sales\.opportunity, column counter, key "11": the value "1152921504606846977" is beyond/,
    );
    expect(await sink.checkpoint()).toBe(0n);

    const other = await startWeaviateStandin();
    try {
      const config = parseClassConfig({ classes: { 'sales.opportunity': { asText: ['counter'] } } });
      const textSink = new WeaviateSink({ connection: new WeaviateConnection({ url: other.url }), embedder: new LocalHashEmbedder(), config });
      await textSink.prepare([ACCOUNT, OPPORTUNITY]);
      await textSink.apply({ through: 5n, changes: [upsert(OPPORTUNITY, opportunity(11, null, 'Big', null, big), 5n)] });
      const object = other.objects.get('Opportunity')!.get(objectId(OPPORTUNITY, [11n]))!;
      expect(object.properties.counter).toBe('1152921504606846977');
      expect(object.properties.account).toBeUndefined();
    } finally {
      await other.close();
    }
  });

  it('raises the per-object errors of a batch naming the key, and leaves the checkpoint', async () => {
    await sink.prepare([ACCOUNT]);
    standin.rejectObject = (object) => (object.properties.name === 'Bad' ? 'refused by the stand-in' : undefined);
    const error = await sink.apply({ through: 9n, changes: [upsert(ACCOUNT, [1n, 'Good'], 9n), upsert(ACCOUNT, [2n, 'Bad'], 9n, 1)] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WeaviateApplyError);
    expect((error as Error).message).toMatch(/refused 1 of 2 objects: table sales\.account, key "2": "refused by the stand-in"/);
    expect(await sink.checkpoint()).toBe(0n);
  });
});
