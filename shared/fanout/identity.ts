/**
 * Deterministic names for what the fan-out writes: the aggregate id (a key's text), the event id (UUIDv5 of table,
 * key, source position and place in the transaction) and the object id of a row in other systems (UUIDv5 of table
 * and key). A rerun over the same changes produces the same ids, which is what makes every sink idempotent.
 */
import { createHash } from 'node:crypto';
import type { Lsn } from '../cdc/lsn';
import { formatLsn } from '../cdc/lsn';
import type { Value } from '../iceberg/spec/values';
import type { FanoutTable } from './fanout-types';

/** The UUID namespace of every id icebridge derives (a fixed random UUID; changing it changes every id). */
export const ICEBRIDGE_NAMESPACE = '5d0f3b7e-2c4a-4f8e-9b61-3a7c2e9d1f40';

/** RFC 9562 UUID version 5 (SHA-1, name-based) of `name` in `namespace`. */
export function uuidV5(name: string, namespace: string = ICEBRIDGE_NAMESPACE): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  if (ns.length !== 16) throw new TypeError(`not a UUID: ${namespace}`);
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The text of one key value: integers in decimal, text as is, bytes as `\x` hex, booleans as true/false. */
export function keyValueText(value: Value): string {
  if (value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (value instanceof Uint8Array) return `\\x${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')}`;
  throw new TypeError('a key value is a primitive value');
}

/** The aggregate id of a row: its single key value's text, or a JSON array of the texts of a composite key. */
export function aggregateId(key: readonly Value[]): string {
  return key.length === 1 ? keyValueText(key[0]!) : JSON.stringify(key.map(keyValueText));
}

/** `schema.name` of a table. */
export function qualifiedName(table: Pick<FanoutTable, 'schema' | 'name'>): string {
  return `${table.schema}.${table.name}`;
}

/** The id of the event a change becomes: the same change (table, key, position, place) always gets the same id. */
export function eventId(table: Pick<FanoutTable, 'schema' | 'name'>, key: readonly Value[], position: Lsn, index: number): string {
  return uuidV5(JSON.stringify(['event', table.schema, table.name, aggregateId(key), formatLsn(position), index]));
}

/** The id of a row's object in another system (a Weaviate object): one per table and key, stable across changes. */
export function objectId(table: Pick<FanoutTable, 'schema' | 'name'>, key: readonly Value[]): string {
  return uuidV5(JSON.stringify(['object', table.schema, table.name, aggregateId(key)]));
}

/** The entity name of a table: PascalCase of its name, a trailing plural `s` kept (`film_actor` -> `FilmActor`). */
export function entityName(tableName: string): string {
  const words = tableName.split(/[^\p{L}\p{N}]+/u).filter((w) => w.length > 0);
  const name = words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
  return /^\p{L}/u.test(name) ? name : `T${name}`;
}
