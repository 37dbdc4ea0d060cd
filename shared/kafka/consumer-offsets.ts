/**
 * Rolling a consumer group back: its committed offsets on a topic reset to a point in time, so the group consumes
 * again everything from then on. A dry run answers, per partition, the committed offset, the offset it would get
 * and the messages that would be consumed again, and changes nothing. A reset refuses while the group has active
 * members (they would overwrite the offsets with their next commit) and is recorded in the transaction log.
 *
 * The offset for a time is the first offset whose message timestamp is at or after it (the partition's end when
 * none is), found by reading the partition's timestamps from its low watermark: exact on every broker, where
 * ListOffsets by timestamp is not answered by every cluster (librdkafka's mock answers the end for any time).
 * Active members are checked with DescribeGroups; a cluster without it (the mock) is checked by joining the
 * group: the reset goes on only when this client became the group's leader and received every partition of the
 * topic, which it does not while another member consumes the topic.
 */
import { randomUUID } from 'node:crypto';
import type { Consumer } from 'kafkajs';
import { ConflictError } from './offsets-errors';
import { EVENT_HEADERS } from './event-headers';
import { type KafkaConnection, withAdmin } from './kafka-client';
import { readTopic, topicWatermarks } from './topic-reader';
import { type TransactionLogOptions, recordAction } from '../state-db/transaction-log';

/** What to reset. */
export interface ResetOffsetsRequest {
  group: string;
  topic: string;
  /** The point in time: the group will consume every message from then on again. */
  to: Date;
  dryRun: boolean;
  /** Who asks (audited). */
  actor: string;
  reason?: string;
  /** Messages listed in the answer at most (default 1,000); the counts are always complete. */
  listLimit?: number;
  /**
   * How long to wait, where DescribeGroups is missing, to lead the group alone (default 60 s: longer than a
   * consumer's session, so a member that left without a word is dropped first).
   */
  joinTimeoutInMs?: number;
  audit?: TransactionLogOptions;
}

/** One partition's reset. */
export interface PartitionReset {
  partition: number;
  /** The group's committed offset (null: none committed). */
  current: string | null;
  /** The offset it gets. */
  target: string;
  /** Messages the group consumes again: from the target to the committed offset (0 without one). */
  reconsumed: number;
}

/** A message the group would consume again. */
export interface ReconsumedMessage {
  partition: number;
  offset: string;
  timestamp: string;
  key: string | null;
  eventId?: string;
}

/** The answer of `resetConsumerOffsets`. */
export interface ResetOffsetsResult {
  group: string;
  topic: string;
  to: string;
  dryRun: boolean;
  /** True when the offsets were committed (never for a dry run). */
  applied: boolean;
  partitions: PartitionReset[];
  messages: ReconsumedMessage[];
  /** Messages left out of `messages` by the list limit. */
  messagesNotListed: number;
}

/** Plans (dry run) or applies a reset of `group`'s offsets on `topic` to `to`. */
export async function resetConsumerOffsets(connection: KafkaConnection, request: ResetOffsetsRequest): Promise<ResetOffsetsResult> {
  if (Number.isNaN(request.to.getTime())) throw new ConflictError('the time to reset to is not a valid date');
  const { group, topic } = request;
  const watermarks = await topicWatermarks(connection, topic);
  if (watermarks.length === 0) throw new ConflictError(`topic ${topic} has no partitions`);
  const committed = await withAdmin(connection, (admin) => admin.fetchOffsets({ groupId: group, topics: [topic] }));
  const current = new Map<number, bigint | null>();
  for (const p of committed.find((t) => t.topic === topic)?.partitions ?? []) current.set(p.partition, p.offset === '-1' ? null : BigInt(p.offset));

  const time = request.to.getTime();
  const target = new Map<number, bigint>();
  const limit = request.listLimit ?? 1_000;
  const messages: ReconsumedMessage[] = [];
  let notListed = 0;
  await readTopic(connection, topic, (m) => {
    if (!target.has(m.partition) && m.timestamp >= time) target.set(m.partition, m.offset);
    const from = target.get(m.partition);
    const until = current.get(m.partition);
    if (from === undefined || until === null || until === undefined || m.offset >= until) return;
    if (messages.length < limit) {
      const eventId = m.headers[EVENT_HEADERS.eventId];
      messages.push({
        partition: m.partition,
        offset: m.offset.toString(),
        timestamp: new Date(m.timestamp).toISOString(),
        key: m.key,
        ...(eventId ? { eventId } : {}),
      });
    } else notListed++;
  });
  const partitions: PartitionReset[] = watermarks.map((w) => {
    const to = target.get(w.partition) ?? w.high;
    const now = current.get(w.partition) ?? null;
    return { partition: w.partition, current: now?.toString() ?? null, target: to.toString(), reconsumed: now !== null && now > to ? Number(now - to) : 0 };
  });
  const result: ResetOffsetsResult = {
    group,
    topic,
    to: request.to.toISOString(),
    dryRun: request.dryRun,
    applied: false,
    partitions,
    messages,
    messagesNotListed: notListed,
  };
  if (request.dryRun) return result;

  await commitWhenIdle(connection, group, topic, partitions, request.joinTimeoutInMs ?? 60_000);
  result.applied = true;
  await recordAction(
    {
      kind: 'kafka.offsets.reset',
      actor: request.actor,
      ...(request.reason ? { reason: request.reason } : {}),
      subject: `${group}/${topic}`,
      before: Object.fromEntries(partitions.map((p) => [p.partition, p.current])),
      after: Object.fromEntries(partitions.map((p) => [p.partition, p.target])),
      correlationId: randomUUID(),
    },
    request.audit,
  );
  return result;
}

/** Commits the targets as the group, refusing (ConflictError) while another member is active. */
async function commitWhenIdle(
  connection: KafkaConnection,
  group: string,
  topic: string,
  partitions: readonly PartitionReset[],
  joinTimeoutInMs: number,
): Promise<void> {
  const described = await withAdmin(connection, async (admin) => {
    try {
      return (await admin.describeGroups([group])).groups.find((g) => g.groupId === group);
    } catch (error) {
      if (unsupported(error)) return undefined;
      throw error;
    }
  });
  if (described && described.state !== 'Empty' && described.state !== 'Dead') {
    throw new ConflictError(
      `consumer group ${group} has ${described.members.length} active member(s) (state ${described.state}): stop them before resetting its offsets`,
    );
  }
  const consumer = connection.kafka.consumer({ groupId: group, allowAutoTopicCreation: false });
  await consumer.connect();
  try {
    const every = partitions.map((p) => p.partition);
    const joined = await joinPaused(consumer, topic, every, joinTimeoutInMs);
    if (!joined) {
      throw new ConflictError(
        `consumer group ${group} has another active member consuming ${topic} (this client did not lead the group alone within ${joinTimeoutInMs} ms): stop it before resetting its offsets`,
      );
    }
    await consumer.commitOffsets(partitions.map((p) => ({ topic, partition: p.partition, offset: p.target })));
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
  const after = await withAdmin(connection, (admin) => admin.fetchOffsets({ groupId: group, topics: [topic] }));
  const stored = new Map((after.find((t) => t.topic === topic)?.partitions ?? []).map((p) => [p.partition, p.offset]));
  const wrong = partitions.filter((p) => stored.get(p.partition) !== p.target);
  if (wrong.length > 0) throw new Error(`consumer group ${group}: the offsets of partitions ${wrong.map((p) => p.partition).join(', ')} did not take`);
}

/**
 * Joins the group on `topic` without consuming (paused, no commits). Answers true once this member leads the
 * group and holds every partition of the topic, false when it has not at the timeout (not even joined, while other
 * members rebalance, or its join crashed and kafkajs restarts it): a member that left without a word holds its
 * partitions until the broker ends its session, so rebalances are waited for. Rejects when the consumer fails for
 * good (a crash kafkajs does not restart from, or subscribe and run failing).
 */
export function joinPaused(consumer: Consumer, topic: string, partitions: readonly number[], timeoutInMs: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    // A consumer that disconnects before its join completes stays in the group (kafkajs finishes the join), so the
    // answer waits for the first join, however late (at most another `timeoutInMs`), before giving up.
    let joined = false;
    let timedOut = false;
    // kafkajs announces the join before its runner counts as running, and drops commits made before that.
    let running: Promise<unknown> = Promise.resolve();
    const stop = (): void => {
      clearTimeout(timer);
      clearTimeout(hardStop);
    };
    const settle = (alone: boolean): void => {
      stop();
      running.then(() => resolve(alone), reject);
    };
    const fail = (error: unknown): void => {
      stop();
      reject(error instanceof Error ? error : new Error(String(error)));
    };
    const timer = setTimeout(() => {
      timedOut = true;
      if (joined) settle(false);
    }, timeoutInMs);
    const hardStop = setTimeout(() => settle(false), 2 * timeoutInMs);
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      joined = true;
      // Paused once a member: the group exists then. A join that fails while another member holds the group
      // crashes the runner, which kafkajs stops (and restarts when it can) with no group to pause.
      try {
        consumer.pause([{ topic }]);
      } catch (error) {
        fail(error);
        return;
      }
      const { isLeader, leaderId, memberId, memberAssignment } = event.payload;
      const assigned = new Set(memberAssignment[topic] ?? []);
      if (isLeader && leaderId === memberId && partitions.every((p) => assigned.has(p))) settle(true);
      else if (timedOut) settle(false);
    });
    // A crash kafkajs does not restart from (not retriable) is an error of its own, not another member's.
    consumer.on(consumer.events.CRASH, (event) => {
      if (!joined && !event.payload.restart) fail(event.payload.error);
    });
    running = consumer
      .subscribe({ topic, fromBeginning: false })
      .then(() => consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: () => Promise.resolve() }));
    running.catch(fail);
  });
}

function unsupported(error: unknown): boolean {
  const e = error as { type?: unknown; message?: unknown };
  return e?.type === 'UNSUPPORTED_VERSION' || (typeof e?.message === 'string' && /does not support the requested API version/i.test(e.message));
}
