import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SHOWN_CHARACTERS, boundedHex, boundedText, compareShown, parseBoundedText, quoteShown, quotedText } from '../shared/text/bounded-text';

const md5 = (text: string): string => createHash('md5').update(Buffer.from(text, 'utf8')).digest('hex');

describe('boundedText', () => {
  it('keeps a text of at most 256 characters exactly, counting code points, not UTF-16 units', () => {
    expect(boundedText('')).toBe('');
    expect(boundedText('x'.repeat(SHOWN_CHARACTERS))).toBe('x'.repeat(SHOWN_CHARACTERS));
    // 256 astral characters are 512 UTF-16 units and still 256 characters.
    const astral = '😀'.repeat(SHOWN_CHARACTERS);
    expect(boundedText(astral)).toBe(astral);
  });

  it('bounds a longer text to its first 256 characters, its length and the md5 of its UTF-8 bytes', () => {
    const text = `a"b\n${'é'.repeat(400)}`;
    const shown = boundedText(text);
    const prefix = `a"b\n${'é'.repeat(SHOWN_CHARACTERS - 4)}`;
    expect(shown).toBe(`${JSON.stringify(`${prefix}…`)} (404 characters, md5 ${md5(text)})`);
    expect(parseBoundedText(shown)).toEqual({ prefix, length: 404, md5: md5(text) });
    expect(boundedText('x'.repeat(1_234_567))).toMatch(/^"x{256}…" \(1,234,567 characters, md5 [0-9a-f]{32}\)$/);
    // Longer than any exact text, so never taken for one.
    expect([...shown].length).toBeGreaterThan(SHOWN_CHARACTERS);
    expect(parseBoundedText('x'.repeat(SHOWN_CHARACTERS))).toBeUndefined();
    // An exact text of astral characters that looks like a bounded one (longer than 256 UTF-16 units) is not one.
    const lookalike = `"${'😀'.repeat(150)}…" (300 characters, md5 ${'0'.repeat(32)})`;
    expect(boundedText(lookalike)).toBe(lookalike);
    expect(parseBoundedText(lookalike)).toBeUndefined();
    expect(quoteShown(lookalike)).toBe(JSON.stringify(lookalike));
  });

  it('shows equal long texts equal and different ones different, even with one prefix and one length', () => {
    const base = 'p'.repeat(10_000);
    expect(boundedText(`${base}a`)).toBe(boundedText(`${base}a`));
    expect(boundedText(`${base}a`)).not.toBe(boundedText(`${base}b`));
    expect(parseBoundedText(boundedText(`${base}a`))!.prefix).toBe(parseBoundedText(boundedText(`${base}b`))!.prefix);
  });

  it('never splits a surrogate pair, in the prefix or in the hashed chunks', () => {
    const prefixEdge = `${'x'.repeat(SHOWN_CHARACTERS - 1)}😀tail`;
    expect(parseBoundedText(boundedText(prefixEdge))!.prefix).toBe(`${'x'.repeat(SHOWN_CHARACTERS - 1)}😀`);
    // A pair straddling the 1 MiB hashing step.
    const chunkEdge = `${'y'.repeat((1 << 20) - 1)}😀${'z'.repeat(10)}`;
    const parts = parseBoundedText(boundedText(chunkEdge))!;
    expect(parts.md5).toBe(md5(chunkEdge));
    expect(parts.length).toBe((1 << 20) - 1 + 1 + 10);
  });

  it('bounds bytes as their hex text without building it whole', () => {
    const bytes = Uint8Array.from({ length: 3_000 }, (_v, i) => (i * 7) % 256);
    expect(boundedHex(bytes)).toBe(boundedText(Buffer.from(bytes).toString('hex')));
    expect(boundedHex(bytes.subarray(0, 128))).toBe(Buffer.from(bytes.subarray(0, 128)).toString('hex'));
    expect(boundedHex(bytes.subarray(10, 2_000))).toBe(boundedText(Buffer.from(bytes.subarray(10, 2_000)).toString('hex')));
  });

  it('quotes a short text and leaves a bounded one as it is', () => {
    expect(quotedText('NULL')).toBe('"NULL"');
    expect(quoteShown('')).toBe('""');
    const long = 'q'.repeat(300);
    expect(quotedText(long)).toBe(boundedText(long));
    expect(quoteShown(boundedText(long))).toBe(boundedText(long));
  });
});

describe('compareShown', () => {
  const long = (head: string, tail = ''): string => boundedText(`${head}${'m'.repeat(SHOWN_CHARACTERS)}${tail}`);

  it('orders as the full texts do wherever the shown forms tell', () => {
    expect(compareShown('a', 'b')).toBeLessThan(0);
    // An exact text against a bounded one: by the prefix, and a prefix of the long text comes first.
    expect(compareShown('a', long('b'))).toBeLessThan(0);
    expect(compareShown('c', long('b'))).toBeGreaterThan(0);
    expect(compareShown(`b${'m'.repeat(SHOWN_CHARACTERS - 1)}`, long('b'))).toBeLessThan(0);
    expect(compareShown(long('b'), `b${'m'.repeat(SHOWN_CHARACTERS - 1)}`)).toBeGreaterThan(0);
    expect(compareShown(long('a'), long('b'))).toBeLessThan(0);
    // Code point order: an astral character sorts after U+FFFF.
    expect(compareShown(long('\uffff'), long('😀'))).toBeLessThan(0);
  });

  it('orders two bounded texts with one prefix the same way every time, equal only when they are', () => {
    const [x, y] = [long('a', 'x'), long('a', 'y')];
    expect(compareShown(x, x)).toBe(0);
    expect(Math.sign(compareShown(x, y))).toBe(-Math.sign(compareShown(y, x)));
    expect(compareShown(x, y)).not.toBe(0);
  });
});
