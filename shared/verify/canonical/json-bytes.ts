/**
 * The JSON array text of canonical texts (jsonArray of canonical-text.ts) written straight as UTF-8 bytes into
 * the scratch buffer of row-hash.ts, so a row text or a hashed list is made without a string per element.
 */
import { scratch } from './row-hash';

/** Writes jsonArray(items) as UTF-8 at the start of the scratch buffer (row-hash.ts); returns its length in bytes. */
export function writeJsonArray(items: ReadonlyArray<string | null>): number {
  let capacity = 2;
  for (let i = 0; i < items.length; i++) capacity += 3 + 6 * (items[i]?.length ?? 0);
  const out = scratch(capacity);
  let n = 0;
  out[n++] = 0x5b;
  for (let i = 0; i < items.length; i++) {
    if (i > 0) out[n++] = 0x2c;
    const t = items[i] ?? null;
    if (t === null) {
      out[n++] = 0x6e;
      out[n++] = 0x75;
      out[n++] = 0x6c;
      out[n++] = 0x6c;
    } else {
      out[n++] = 0x22;
      n = writeJsonStringBody(t, out, n);
      out[n++] = 0x22;
    }
  }
  out[n++] = 0x5d;
  return n;
}

/**
 * Writes `t` as the inside of a JSON string, UTF-8, escaped exactly as JSON.stringify escapes it (`"`, `\`,
 * control characters, lone surrogates; lowercase hex); returns the new end. `out` has 6 bytes per code unit.
 */
function writeJsonStringBody(t: string, out: Buffer, start: number): number {
  let n = start;
  for (let j = 0; j < t.length; j++) {
    const c = t.charCodeAt(j);
    if (c >= 0x20 && c < 0x80 && c !== 0x22 && c !== 0x5c) {
      out[n++] = c;
    } else if (c < 0x80) {
      out[n++] = 0x5c;
      const short = JSON_SHORT_ESCAPES[c];
      if (short !== undefined) out[n++] = short;
      else n = writeUnicodeEscape(c, out, n);
    } else if (c < 0x800) {
      out[n++] = 0xc0 | (c >> 6);
      out[n++] = 0x80 | (c & 0x3f);
    } else if (c < 0xd800 || c > 0xdfff) {
      out[n++] = 0xe0 | (c >> 12);
      out[n++] = 0x80 | ((c >> 6) & 0x3f);
      out[n++] = 0x80 | (c & 0x3f);
    } else {
      const low = j + 1 < t.length ? t.charCodeAt(j + 1) : 0;
      if (c <= 0xdbff && low >= 0xdc00 && low <= 0xdfff) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
        out[n++] = 0xf0 | (cp >> 18);
        out[n++] = 0x80 | ((cp >> 12) & 0x3f);
        out[n++] = 0x80 | ((cp >> 6) & 0x3f);
        out[n++] = 0x80 | (cp & 0x3f);
        j++;
      } else {
        out[n++] = 0x5c;
        n = writeUnicodeEscape(c, out, n);
      }
    }
  }
  return n;
}

/** `"` -> `\"`, `\` -> `\\` and the five control characters JSON writes by letter. */
const JSON_SHORT_ESCAPES: Partial<Record<number, number>> = { 0x22: 0x22, 0x5c: 0x5c, 0x08: 0x62, 0x09: 0x74, 0x0a: 0x6e, 0x0c: 0x66, 0x0d: 0x72 };
const HEX_DIGITS = '0123456789abcdef';

/** Writes `uXXXX` (after the backslash the caller wrote). */
function writeUnicodeEscape(c: number, out: Buffer, start: number): number {
  let n = start;
  out[n++] = 0x75;
  for (let shift = 12; shift >= 0; shift -= 4) out[n++] = HEX_DIGITS.charCodeAt((c >> shift) & 0xf);
  return n;
}
