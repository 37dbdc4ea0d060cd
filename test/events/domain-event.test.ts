/**
 * A change becomes the documented domain event: kind from the operation (load rows are creations), the whole row by
 * column name (a deletion: the key), metadata tying it to the migration and the source transaction, and the same
 * event again from the same change.
 */
import { describe, expect, it } from 'vitest';
import { decodeEventData, eventKind, toDomainEvent } from '../../shared/events/domain-event';
import type { FanoutChange } from '../../shared/fanout/fanout-types';
import { eventId } from '../../shared/fanout/identity';
import { parseJson, stringifyJson } from '../../shared/iceberg/spec/json';
import type { Value } from '../../shared/iceberg/spec/values';
import { ALL_TYPES, FILM, HOSTILE, filmChange } from './event-fixtures';

describe('the domain event of a change', () => {
  it('is Created for inserts and load rows, Updated, Deleted', () => {
    expect(eventKind({ op: 'insert', origin: 'stream' })).toBe('Created');
    expect(eventKind({ op: 'update', origin: 'load' })).toBe('Created');
    expect(eventKind({ op: 'update', origin: 'stream' })).toBe('Updated');
    expect(eventKind({ op: 'delete', origin: 'stream' })).toBe('Deleted');
    expect(toDomainEvent(filmChange('update', 3, 0x1_0000_0010n), 'm1').eventType).toBe('FilmUpdated');
  });

  it('carries the row by column name, ids and metadata derived from the change', () => {
    const change = filmChange('insert', 7, 0x16_b374d848n, 2, 'Alien');
    const event = toDomainEvent(change, 'migration-1');
    expect(event).toMatchObject({ id: eventId(FILM, [7n], 0x16_b374d848n, 2), aggregateType: 'Film', aggregateId: '7', eventType: 'FilmCreated' });
    expect(stringifyJson(event.data)).toBe('{"film_id":7,"title":"Alien"}');
    expect(event.metadata).toMatchObject({ migrationId: 'migration-1', sourceLsn: '16/B374D848', origin: 'stream', table: 'public.film' });
    expect(event.metadata.causationId).toBe(event.metadata.correlationId);
    expect(toDomainEvent(change, 'migration-1')).toEqual(event);
  });

  it('shares the correlation id within a source transaction and only there', () => {
    const a = toDomainEvent(filmChange('insert', 1, 100n, 0), 'm');
    const b = toDomainEvent(filmChange('insert', 2, 100n, 1), 'm');
    const c = toDomainEvent(filmChange('insert', 1, 200n, 0), 'm');
    expect(a.metadata.correlationId).toBe(b.metadata.correlationId);
    expect(c.metadata.correlationId).not.toBe(a.metadata.correlationId);
    expect(new Set([a.id, b.id, c.id]).size).toBe(3);
  });

  it('names the load as the cause of a load row', () => {
    const event = toDomainEvent({ ...filmChange('insert', 1, 100n), origin: 'load' }, 'm');
    expect(event.metadata.origin).toBe('load');
    expect(event.metadata.causationId).not.toBe(event.metadata.correlationId);
  });

  it('keeps only the key columns of a deletion', () => {
    const event = toDomainEvent(filmChange('delete', 9, 300n), 'm');
    expect(event.eventType).toBe('FilmDeleted');
    expect(stringifyJson(event.data)).toBe('{"film_id":9}');
    expect(decodeEventData(FILM, parseJson(stringifyJson(event.data)), 'Deleted')).toEqual([9n]);
  });

  it('reads a whole row of every type back from its data', () => {
    const width = Math.max(...Object.values(HOSTILE).map((values) => values.length));
    for (let i = 0; i < width; i++) {
      const row: Value[] = ALL_TYPES.columns.map((c) => HOSTILE[c.name]![i % HOSTILE[c.name]!.length]!);
      const change: FanoutChange = { table: ALL_TYPES, op: 'insert', key: [row[0]!], row, position: 1n, index: i, committedAt: 0, origin: 'stream' };
      const event = toDomainEvent(change, 'm');
      expect(decodeEventData(ALL_TYPES, parseJson(stringifyJson(event.data)), event.kind)).toEqual(row);
    }
  });

  it('refuses a row that does not match the table', () => {
    expect(() => toDomainEvent({ ...filmChange('insert', 1, 1n), row: [1n] }, 'm')).toThrow(
      /event-store: table public\.film, key "1": the change carries 1 values for 2 columns/,
    );
  });
});
