/**
 * The command lines and the HTTP body of the Kafka operations: a reset time must carry a zone, a reset needs a
 * reason over HTTP, and usage errors exit 2 before anything connects.
 */
import { describe, expect, it } from 'vitest';
import { outputSink } from '../support/output-sink';
import { kafkaCommand, parseResetTime } from '../../cli/commands/kafka';
import { outboxCommand } from '../../cli/commands/outbox';
import { parseResetOffsetsBody } from '../../functions/http/kafka-offsets';

describe('icebridge kafka reset-offsets', () => {
  it('takes an ISO date-time with a zone only', () => {
    expect(parseResetTime('2026-03-01T12:00:00Z').toISOString()).toBe('2026-03-01T12:00:00.000Z');
    expect(parseResetTime('2026-03-01T13:00:00+01:00').toISOString()).toBe('2026-03-01T12:00:00.000Z');
    expect(() => parseResetTime('2026-03-01T12:00:00')).toThrow(/with a zone/);
    expect(() => parseResetTime('yesterday')).toThrow(/with a zone/);
    expect(() => parseResetTime(undefined)).toThrow(/--to is required/);
  });

  it('exits 2 with the usage for a missing group or a wrong action, 1 without brokers', async () => {
    const err = outputSink();
    expect(await kafkaCommand(['reset-offsets', '--topic', 't', '--to', '2026-03-01T12:00:00Z'], outputSink(), err, {})).toBe(2);
    expect(err.text).toContain('--group is required');
    expect(await kafkaCommand(['delete-group', '--group', 'g'], outputSink(), outputSink(), {})).toBe(2);
    const noBrokers = outputSink();
    expect(await kafkaCommand(['reset-offsets', '--group', 'g', '--topic', 't', '--to', '2026-03-01T12:00:00Z'], outputSink(), noBrokers, {})).toBe(1);
    expect(noBrokers.text).toContain('ICEBRIDGE_KAFKA_BROKERS is not set');
  });
});

describe('icebridge outbox', () => {
  it('exits 2 for an unknown action', async () => {
    const err = outputSink();
    expect(await outboxCommand(['flush'], outputSink(), err, {})).toBe(2);
    expect(err.text).toContain('expected relay or status');
  });
});

describe('POST /api/kafka/groups/{group}/reset-offsets', () => {
  it('checks the body: topic, a zoned time, and a reason for a reset', () => {
    expect(parseResetOffsetsBody({ topic: 'films', to: '2026-03-01T12:00:00Z', dryRun: true })).toEqual({
      topic: 'films',
      to: new Date('2026-03-01T12:00:00Z'),
      dryRun: true,
    });
    expect(parseResetOffsetsBody({ topic: 'films', to: '2026-03-01T12:00:00Z', reason: 'replay' }).dryRun).toBe(false);
    expect(() => parseResetOffsetsBody({ topic: 'films', to: '2026-03-01T12:00:00Z' })).toThrow(/needs a reason/);
    expect(() => parseResetOffsetsBody({ topic: 'films', to: '2026-03-01 12:00', dryRun: true })).toThrow(/with a zone/);
    expect(() => parseResetOffsetsBody({ topic: 'a b', to: '2026-03-01T12:00:00Z', dryRun: true })).toThrow(/topic/);
    expect(() => parseResetOffsetsBody([])).toThrow(/JSON object/);
  });
});
