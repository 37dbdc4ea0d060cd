/**
 * How a value is shown and carried wherever it leaves the place it was read (activity results, orchestration
 * outputs and statuses, reports, error messages): a text of at most SHOWN_CHARACTERS characters (code points)
 * exactly as it is; a longer one bounded, as its first SHOWN_CHARACTERS characters, its full length and the md5
 * of its UTF-8 bytes:
 *
 *   "lorem ipsum lorem…" (1,048,579 characters, md5 9e107d9d372bb6826bd81d3542a419d6)
 *
 * A bounded text is always longer than SHOWN_CHARACTERS (its prefix alone, quoted, is), so it is never taken
 * for an exact one; equal texts are shown equal and different ones (even with one prefix and one length)
 * different, by the hash. PostgreSQL computes the same form in SQL (boundedTextSql), so a value too long to
 * carry is cut where it is read and both sides' forms compare as strings.
 */
import { createHash } from 'node:crypto';
import { compareStrings } from '../iceberg/spec/compare';

/** Characters (code points) of a text shown exactly; a longer text is shown bounded. */
export const SHOWN_CHARACTERS = 256;

/** The parts of a bounded text. */
export interface BoundedText {
  /** The first SHOWN_CHARACTERS characters. */
  prefix: string;
  /** The full text's length in characters (code points). */
  length: number;
  /** md5 of the full text's UTF-8 bytes, lowercase hex. */
  md5: string;
}

const SURROGATE = /[\uD800-\uDFFF]/;
/** UTF-16 units hashed per step: the text is never copied whole into one buffer. */
const HASH_CHUNK = 1 << 20;
const BOUNDED = /^("(?:[^"\\]|\\.)*…") \(([\d,]+) characters, md5 ([0-9a-f]{32})\)$/s;

/** `text` as it is shown and carried: itself when short, else its bounded form (see the module comment). */
export function boundedText(text: string): string {
  if (text.length <= SHOWN_CHARACTERS) return text;
  const surrogates = SURROGATE.test(text);
  const length = surrogates ? codePoints(text) : text.length;
  if (length <= SHOWN_CHARACTERS) return text;
  const prefix = surrogates
    ? Array.from(text.slice(0, SHOWN_CHARACTERS * 2))
        .slice(0, SHOWN_CHARACTERS)
        .join('')
    : text.slice(0, SHOWN_CHARACTERS);
  return formatBounded({ prefix, length, md5: md5Utf8(text) });
}

/** `text` for an error message: JSON-quoted when short, else its bounded form (whose prefix is quoted so). */
export function quotedText(text: string): string {
  return quoteShown(boundedText(text));
}

/** A shown text (boundedText's result) as an unambiguous literal: an exact one JSON-quoted, a bounded one as it is. */
export function quoteShown(shown: string): string {
  return parseBoundedText(shown) === undefined ? JSON.stringify(shown) : shown;
}

/** A bounded text from its parts. */
export function formatBounded(parts: BoundedText): string {
  return `${JSON.stringify(`${parts.prefix}…`)} (${groupDigits(parts.length)} characters, md5 ${parts.md5})`;
}

/** The parts of a bounded text; undefined for an exact one. */
export function parseBoundedText(shown: string): BoundedText | undefined {
  if (shown.length <= SHOWN_CHARACTERS) return undefined;
  const match = BOUNDED.exec(shown);
  if (match === null) return undefined;
  const prefix = (JSON.parse(match[1]!) as string).slice(0, -1);
  // An exact text is at most SHOWN_CHARACTERS characters in all, so one that merely looks bounded fails here.
  if (codePoints(prefix) !== SHOWN_CHARACTERS) return undefined;
  return { prefix, length: Number(match[2]!.replace(/,/g, '')), md5: match[3]! };
}

/** `bytes` shown as their lowercase hex (the canonical text of binary), bounded, without making the whole hex text when it is long. */
export function boundedHex(bytes: Uint8Array): string {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length * 2 <= SHOWN_CHARACTERS) return view.toString('hex');
  const hash = createHash('md5');
  for (let i = 0; i < view.length; i += HASH_CHUNK) hash.update(view.subarray(i, i + HASH_CHUNK).toString('hex'), 'latin1');
  return formatBounded({ prefix: view.subarray(0, SHOWN_CHARACTERS / 2).toString('hex'), length: bytes.length * 2, md5: hash.digest('hex') });
}

/**
 * SQL giving the bounded form of the text expression `text` (a column reference: it is used several times),
 * NULL for NULL. Same form as boundedText: PostgreSQL's left() and length() count characters, md5() hashes
 * the text's bytes (the database's encoding is UTF-8), and to_json writes a string as JSON.stringify does.
 */
export function boundedTextSql(text: string): string {
  return (
    `(CASE WHEN pg_catalog.length(${text}) <= ${SHOWN_CHARACTERS} THEN ${text} ELSE ` +
    `pg_catalog.to_json(pg_catalog.left(${text}, ${SHOWN_CHARACTERS}) || '…')::text || ' (' ` +
    `|| pg_catalog.to_char(pg_catalog.length(${text}), 'FM999,999,999,999,990') || ' characters, md5 ' || pg_catalog.md5(${text}) || ')' END)`
  );
}

/**
 * Orders two shown texts as their full texts order by code point where the shown forms tell: an exact text
 * against a bounded one by the prefix, two bounded ones by their prefixes. Two bounded texts with one prefix
 * cannot be told apart by order; they are ordered by length and hash, the same way on every side, so equal
 * data still merges to equal figures.
 */
export function compareShown(a: string, b: string): number {
  const x = parseBoundedText(a);
  const y = parseBoundedText(b);
  if (x === undefined && y === undefined) return compareStrings(a, b);
  if (x === undefined) return compareStrings(a, y!.prefix) <= 0 ? -1 : 1;
  if (y === undefined) return compareStrings(x.prefix, b) < 0 ? -1 : 1;
  return compareStrings(x.prefix, y.prefix) || x.length - y.length || (x.md5 < y.md5 ? -1 : x.md5 > y.md5 ? 1 : 0);
}

function codePoints(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++, n++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
  }
  return n;
}

function md5Utf8(text: string): string {
  const hash = createHash('md5');
  for (let i = 0; i < text.length;) {
    let end = Math.min(text.length, i + HASH_CHUNK);
    // A chunk never ends between the two halves of a surrogate pair, which would hash as two replacement characters.
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end++;
    hash.update(text.slice(i, end), 'utf8');
    i = end;
  }
  return hash.digest('hex');
}

function groupDigits(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
