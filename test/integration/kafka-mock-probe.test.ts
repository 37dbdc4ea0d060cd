/**
 * What librdkafka's mock cluster (Debian's kcat) does and does not do for kafkajs, as docs/kafka.md and
 * support/kafka-mock.ts say. When a kcat upgrade changes one of these, this fails and the fallbacks can be revisited.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KafkaConnection, connectKafka, connectProducer, ensureTopics, withAdmin } from '../../shared/kafka/kafka-client';
import { type KafkaMock, startKafkaMock } from './support/kafka-mock';

let mock: KafkaMock;
let kafka: KafkaConnection;

beforeAll(async () => {
  mock = await startKafkaMock();
  kafka = connectKafka({ brokers: mock.brokers, clientId: 'icebridge-probe', ssl: false, partitions: 3, idempotent: false }, { retries: 1 });
}, 60_000);

afterAll(async () => {
  await mock?.stop();
});

async function outcome(work: () => Promise<unknown>): Promise<string> {
  return work().then(
    () => 'ok',
    (error: unknown) => (error as Error).message,
  );
}

describe("librdkafka's mock cluster", () => {
  it('runs three brokers', () => {
    expect(mock.brokers).toHaveLength(3);
  });

  it('has no controller for CreateTopics; a topic is auto-created with 4 partitions, which ensureTopics falls back on', async () => {
    expect(await outcome(() => withAdmin(kafka, (admin) => admin.createTopics({ topics: [{ topic: 'probe-created', numPartitions: 3 }] })))).toMatch(
      /not found in the cached metadata/,
    );
    await ensureTopics(kafka, ['probe-auto']);
    const offsets = await withAdmin(kafka, (admin) => admin.fetchTopicOffsets('probe-auto'));
    expect(offsets).toHaveLength(4);
  });

  it('takes acks=all produce, but neither the idempotent producer nor transactions', async () => {
    const plain = await connectProducer(kafka);
    expect(await outcome(() => plain.send({ topic: 'probe-auto', acks: -1, messages: [{ key: 'k', value: 'v' }] }))).toBe('ok');
    await plain.disconnect();
    const idempotent = kafka.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    expect(
      await outcome(async () => {
        await idempotent.connect();
        await idempotent.send({ topic: 'probe-auto', acks: -1, messages: [{ key: 'k', value: 'v' }] });
      }),
    ).not.toBe('ok');
    await idempotent.disconnect().catch(() => undefined);
  });

  it('answers neither DescribeGroups nor ListGroups (so kafkajs setOffsets fails), but commits and fetches group offsets', async () => {
    expect(await outcome(() => withAdmin(kafka, (admin) => admin.describeGroups(['probe-group'])))).toMatch(/does not support the requested API version/);
    expect(await outcome(() => withAdmin(kafka, (admin) => admin.listGroups()))).toMatch(/does not support the requested API version/);
    expect(
      await outcome(() =>
        withAdmin(kafka, (admin) => admin.setOffsets({ groupId: 'probe-group', topic: 'probe-auto', partitions: [{ partition: 0, offset: '0' }] })),
      ),
    ).toMatch(/does not support the requested API version/);
    const fetched = await withAdmin(kafka, (admin) => admin.fetchOffsets({ groupId: 'probe-group', topics: ['probe-auto'] }));
    expect(fetched[0]!.partitions.every((p) => p.offset === '-1')).toBe(true);
  });

  it('answers ListOffsets by timestamp with the end of the partition, whatever the time', async () => {
    const producer = await connectProducer(kafka);
    await producer.send({ topic: 'probe-auto', acks: -1, messages: [{ key: 'k', value: 'old', partition: 1, timestamp: String(Date.UTC(2020, 0, 1)) }] });
    await producer.disconnect();
    const byTime = await withAdmin(kafka, (admin) => admin.fetchTopicOffsetsByTimestamp('probe-auto', Date.UTC(2019, 0, 1)));
    const ends = await withAdmin(kafka, (admin) => admin.fetchTopicOffsets('probe-auto'));
    // A real broker answers offset 0 of partition 1 (its only message is after the time); the mock answers the end.
    expect(byTime.find((p) => p.partition === 1)!.offset).toBe(ends.find((p) => p.partition === 1)!.high);
    expect(ends.find((p) => p.partition === 1)!.high).not.toBe('0');
  });
});
