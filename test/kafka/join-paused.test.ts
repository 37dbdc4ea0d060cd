/**
 * How resetConsumerOffsets joins a group to take it alone (joinPaused), against a consumer that announces joins
 * and crashes as kafkajs does: a join that crashed and is restarted counts as not alone (the reset is refused), a
 * crash kafkajs gives up on is an error of its own, and the member pauses only once the group exists.
 */
import type { Consumer } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { joinPaused } from '../../shared/kafka/consumer-offsets';

const EVENTS = { GROUP_JOIN: 'consumer.group_join', CRASH: 'consumer.crash' } as const;

/** A consumer whose run() does what `onRun` says: join, crash, or nothing. */
class FakeConsumer {
  readonly events = EVENTS;
  readonly paused: string[] = [];
  group = false;
  private readonly listeners = new Map<string, Array<(event: { payload: unknown }) => void>>();

  constructor(private readonly onRun: (consumer: FakeConsumer) => void) {}

  on(name: string, listener: (event: { payload: unknown }) => void): () => void {
    this.listeners.set(name, [...(this.listeners.get(name) ?? []), listener]);
    return () => undefined;
  }

  emit(name: string, payload: unknown): void {
    for (const listener of this.listeners.get(name) ?? []) listener({ payload });
  }

  subscribe(): Promise<void> {
    return Promise.resolve();
  }

  run(): Promise<void> {
    this.onRun(this);
    return Promise.resolve();
  }

  pause(topics: Array<{ topic: string }>): void {
    // kafkajs: 'Consumer group was not initialized, consumer#run must be called first'
    if (!this.group) throw new Error('Consumer group was not initialized');
    this.paused.push(...topics.map((t) => t.topic));
  }

  join(alone: boolean): void {
    this.group = true;
    this.emit(EVENTS.GROUP_JOIN, { isLeader: alone, leaderId: 'me', memberId: alone ? 'me' : 'other', memberAssignment: { orders: alone ? [0, 1] : [1] } });
  }

  crash(restart: boolean): void {
    // A crashed runner is stopped: its group is gone until a restart makes a new one.
    this.group = false;
    this.emit(EVENTS.CRASH, { error: new Error('join failed'), groupId: 'billing', restart });
  }
}

const join = (consumer: FakeConsumer, timeoutInMs = 20) => joinPaused(consumer as unknown as Consumer, 'orders', [0, 1], timeoutInMs);

describe('joining a group alone to reset its offsets', () => {
  it('answers true once this member leads the group with every partition, paused', async () => {
    const consumer = new FakeConsumer((c) => c.join(true));
    expect(await join(consumer)).toBe(true);
    expect(consumer.paused).toEqual(['orders']);
  });

  it('answers false when another member holds part of the topic at the timeout', async () => {
    const consumer = new FakeConsumer((c) => c.join(false));
    expect(await join(consumer)).toBe(false);
  });

  it('answers false, not an error, when the join crashed and kafkajs restarts the consumer', async () => {
    const consumer = new FakeConsumer((c) => c.crash(true));
    expect(await join(consumer)).toBe(false);
    expect(consumer.paused).toEqual([]);
  });

  it('rejects with the cause when the consumer crashed for good before joining', async () => {
    const consumer = new FakeConsumer((c) => c.crash(false));
    await expect(join(consumer)).rejects.toThrow('join failed');
  });
});
