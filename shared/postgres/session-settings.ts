/**
 * The session settings under which PostgreSQL's text output is deterministic, whatever the server's or role's
 * defaults: one list for the copy, whose text-mode values are stored as PostgreSQL prints them, and for the
 * verification, whose canonical SQL must print those same texts.
 */

/** Settings (name, value) that make `::text` output deterministic: UTC, ISO dates, ISO 8601 intervals, exact floats, hex bytea. */
export const TEXT_OUTPUT_SETTINGS: ReadonlyArray<readonly [string, string]> = [
  ['TimeZone', 'UTC'],
  ['DateStyle', 'ISO, YMD'],
  ['IntervalStyle', 'iso_8601'],
  ['extra_float_digits', '3'],
  ['bytea_output', 'hex'],
];
