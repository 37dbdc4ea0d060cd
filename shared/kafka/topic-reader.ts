/**
 * Reads a topic's partitions between fixed offsets: from a start (default: the low watermark) up to an end fixed
 * before the read starts (default: the high watermark then), so the read is exact and finishes even while
 * producers go on writing. kafkajs reads only through a consumer group: a throw-away group that never commits
 * offsets is used, so no consumer group of the topic is touched.
 */
import { randomUUID } from 'node:crypto';
import type { Batch, IHeaders } from 'kafkajs';
import { errorMessage } from '../errors';
import { withAdmin, type KafkaConnection } from './kafka-client';

/** One message as the reader hands it on: headers decoded as UTF-8 text. */
export interface TopicMessage {
  partition: number;
  /** The offset as a bigint (Kafka offsets are 64-bit). */
  offset: bigint;
  /** Producer timestamp, ms since the Unix epoch. */
  timestamp: number;
  key: string | null;
  /** Null for a tombstone. */
  value: Buffer | null;
  headers: Record<string, string>;
}

/** Per partition: the low and high watermark. */
export interface PartitionWatermarks {
  partition: number;
  low: bigint;
  high: bigint;
}

/** Options of `readTopic`. */
export interface ReadTopicOptions {
  /** First offset per partition (default: the low watermark). */
  from?: ReadonlyMap<number, bigint>;
  /** Offset to stop before per partition (default: the high watermark taken when the read starts). */
  until?: ReadonlyMap<number, bigint>;
  /** The read fails when no message arrives for this long while some remain (default 60 s). */
  idleTimeoutInMs?: number;
  signal?: AbortSignal;
}

/** The low and high watermarks of every partition of `topic`, in partition order. */
export async function topicWatermarks(connection: KafkaConnection, topic: string): Promise<PartitionWatermarks[]> {
  const offsets = await withAdmin(connection, (admin) => admin.fetchTopicOffsets(topic));
  return offsets.map((o) => ({ partition: o.partition, low: BigInt(o.low), high: BigInt(o.high) })).sort((a, b) => a.partition - b.partition);
}

/**
 * Hands every message of `topic` in [from, until) of each partition to `onMessage`, partition by partition in
 * offset order (partitions interleave). Answers the watermarks the read was bounded by.
 */
export async function readTopic(
  connection: KafkaConnection,
  topic: string,
  onMessage: (message: TopicMessage) => void,
  options: ReadTopicOptions = {},
): Promise<PartitionWatermarks[]> {
  const watermarks = await topicWatermarks(connection, topic);
  const next = new Map<number, bigint>();
  const end = new Map<number, bigint>();
  for (const w of watermarks) {
    const from = options.from?.get(w.partition) ?? w.low;
    next.set(w.partition, from > w.low ? from : w.low);
    end.set(w.partition, options.until?.get(w.partition) ?? w.high);
  }
  const remaining = (): number[] => [...end.keys()].filter((p) => next.get(p)! < end.get(p)!);
  if (remaining().length === 0) return watermarks;

  const consumer = connection.kafka.consumer({ groupId: `icebridge-reader-${randomUUID()}`, allowAutoTopicCreation: false, maxWaitTimeInMs: 500 });
  await consumer.connect();
  try {
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const finish = (error?: unknown): void => {
        if (settled) return;
        settled = true;
        clearInterval(watch);
        options.signal?.removeEventListener('abort', onAbort);
        if (error === undefined) resolve();
        else reject(error instanceof Error ? error : new Error(errorMessage(error)));
      };
      const onAbort = (): void => finish(new Error(`reading ${topic} was stopped`));
      options.signal?.addEventListener('abort', onAbort);
      let lastProgress = Date.now();
      const idle = options.idleTimeoutInMs ?? 60_000;
      const watch = setInterval(
        () => {
          if (Date.now() - lastProgress > idle) {
            finish(new Error(`reading ${topic}: no message for ${idle} ms with partitions ${remaining().join(', ')} short of their end`));
          }
        },
        Math.min(1_000, idle),
      );
      const take = (batch: Batch): void => {
        if (settled) return;
        const partition = batch.partition;
        const stop = end.get(partition);
        if (stop === undefined) return;
        for (const m of batch.messages) {
          const offset = BigInt(m.offset);
          if (offset < next.get(partition)!) continue;
          if (offset >= stop) break;
          try {
            onMessage({
              partition,
              offset,
              timestamp: Number(m.timestamp),
              key: m.key ? m.key.toString('utf8') : null,
              value: m.value,
              headers: decodeHeaders(m.headers),
            });
          } catch (error) {
            // kafkajs would retry the batch and swallow the error: the caller's failure ends the read.
            finish(error);
            return;
          }
          next.set(partition, offset + 1n);
          lastProgress = Date.now();
        }
        // Compaction or aborted transactions leave holes: the batch's last offset says how far the log goes.
        const last = BigInt(batch.lastOffset());
        if (last + 1n > next.get(partition)! && last + 1n <= stop) next.set(partition, last + 1n);
        if (next.get(partition)! >= stop) consumer.pause([{ topic, partitions: [partition] }]);
        if (remaining().length === 0) finish();
      };
      consumer
        .subscribe({ topic, fromBeginning: true })
        .then(() =>
          consumer.run({
            autoCommit: false,
            eachBatchAutoResolve: true,
            eachBatch: ({ batch }) => {
              take(batch);
              return Promise.resolve();
            },
          }),
        )
        .then(() => {
          for (const [partition, offset] of next) {
            if (offset < end.get(partition)!) consumer.seek({ topic, partition, offset: offset.toString() });
            else consumer.pause([{ topic, partitions: [partition] }]);
          }
        })
        .catch(finish);
    });
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
  return watermarks;
}

/** Kafka headers (bytes, maybe repeated) as text; a repeated header keeps its last value. */
export function decodeHeaders(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    if (last === undefined) continue;
    out[name] = Buffer.isBuffer(last) ? last.toString('utf8') : String(last);
  }
  return out;
}
