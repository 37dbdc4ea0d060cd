/** Table identifiers and their place in a Hadoop-style warehouse. */
import { ValidationError } from '../../errors';

/** A table's namespace levels and name, exactly as the user (or PostgreSQL) spells them. */
export interface TableIdentifier {
  namespace: string[];
  name: string;
}

/** Renders an identifier for people: levels joined by '.', quoted where needed. */
export function formatIdentifier(id: TableIdentifier): string {
  return [...id.namespace, id.name].map((p) => (/^[\p{L}_][\p{L}\p{N}_$]*$/u.test(p) ? p : JSON.stringify(p))).join('.');
}

/**
 * The path segment for a namespace level or table name. Names are kept as they are, except the characters a
 * path cannot hold ('/', '\\', '%', control characters) and the names '.' and '..', which are percent-encoded,
 * so every distinct name maps to a distinct, safe segment.
 */
export function pathSegment(name: string): string {
  if (name === '') throw new ValidationError('namespace and table names must not be empty');
  // eslint-disable-next-line no-control-regex -- control characters are exactly what a path segment must not hold
  const encoded = name.replace(/[%/\\\u0000-\u001f\u007f]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
  if (encoded === '.' || encoded === '..') return encoded.replace(/\./g, '%2E');
  return encoded;
}

/** Inverse of pathSegment. */
export function fromPathSegment(segment: string): string {
  return segment.replace(/%([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** `<warehouse>/<namespace...>/<table>` */
export function tableLocation(warehouse: string, id: TableIdentifier): string {
  if (id.namespace.length === 0) throw new ValidationError('a table needs a namespace');
  return [warehouse.replace(/\/+$/, ''), ...id.namespace.map(pathSegment), pathSegment(id.name)].join('/');
}
