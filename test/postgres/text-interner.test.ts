import { describe, expect, it } from 'vitest';
import { InternedText } from '../../shared/iceberg/parquet/interned-text';
import { MAX_INTERNED_BYTES, TextInterner, textHash } from '../../shared/postgres/text-interner';

/** Looks `text` up where it sits in a larger buffer, as COPY leaves it (bytes before and after it). */
function lookup(interner: TextInterner, text: string): InternedText | undefined {
  const bytes = Buffer.concat([Buffer.from('<<'), Buffer.from(text, 'utf8'), Buffer.from('>>>')]);
  return interner.lookup(bytes, 2, bytes.length - 3);
}

describe('TextInterner', () => {
  it('returns one entry per text, its bytes and its text, whatever the length modulo four', () => {
    const interner = new TextInterner();
    const unique = new Set<string>();
    // Texts of every length up to 13 that differ only in their last byte, and in their first: the comparison must
    // read every byte, the partial last word included.
    for (let length = 1; length <= 13; length++) {
      for (const t of ['a'.repeat(length), `${'a'.repeat(length - 1)}b`, `b${'a'.repeat(length - 1)}`]) unique.add(t);
    }
    for (const t of ['', 'Ünïcødé', 'Ünïcødè', '{"a": "é", "b": [1, 2]}', '日本語のテキスト']) unique.add(t);
    const texts = [...unique];
    const first = texts.map((t) => lookup(interner, t)!);
    first.forEach((entry, i) => {
      expect(entry, texts[i]).toBeInstanceOf(InternedText);
      expect(entry.text).toBe(texts[i]);
      expect(Buffer.from(entry).equals(Buffer.from(texts[i]!, 'utf8')), texts[i]).toBe(true);
    });
    expect(new Set(first).size).toBe(texts.length);
    texts.forEach((t, i) => expect(lookup(interner, t), t).toBe(first[i]));
  });

  it('compares the bytes of texts whose hashes are equal', () => {
    const [a, b] = [Buffer.from('aaaaayam'), Buffer.from('aaamaaaa')];
    expect(textHash(a, 0, a.length), 'the two texts collide').toBe(textHash(b, 0, b.length));
    const interner = new TextInterner();
    const first = lookup(interner, 'aaaaayam')!;
    const second = lookup(interner, 'aaamaaaa')!;
    expect([first.text, second.text]).toEqual(['aaaaayam', 'aaamaaaa']);
    expect([lookup(interner, 'aaaaayam'), lookup(interner, 'aaamaaaa')]).toEqual([first, second]);
    expect(lookup(interner, 'aaamaaaa')).toBe(second);
  });

  it('keeps thousands of texts apart as its table grows', () => {
    const interner = new TextInterner();
    const texts = Array.from({ length: 5000 }, (_, i) => `{"items": ${i % 9}, "weight_kg": ${i / 10}}`);
    const first = texts.map((t) => lookup(interner, t)!);
    expect(new Set(first).size).toBe(texts.length);
    for (let i = texts.length - 1; i >= 0; i--) expect(lookup(interner, texts[i]!)).toBe(first[i]);
  });

  it(`leaves texts over ${MAX_INTERNED_BYTES} bytes to the caller`, () => {
    const interner = new TextInterner();
    expect(lookup(interner, 'x'.repeat(MAX_INTERNED_BYTES))?.text).toBe('x'.repeat(MAX_INTERNED_BYTES));
    expect(lookup(interner, 'x'.repeat(MAX_INTERNED_BYTES + 1))).toBeUndefined();
  });

  it('starts over when full of texts that repeat, and stops looking texts up when they do not', () => {
    const repeating = new TextInterner(64);
    const words = Array.from({ length: 40 }, (_, i) => `w${i}`);
    // Each text is seen three times before the next: two of three lookups find theirs.
    for (const word of words) for (let k = 0; k < 3; k++) expect(lookup(repeating, word)?.text, word).toBe(word);
    const again = lookup(repeating, 'w39');
    expect(lookup(repeating, 'w39')).toBe(again);

    const unique = new TextInterner(64);
    for (let i = 0; i < 40; i++) lookup(unique, `u${i}`);
    expect(lookup(unique, 'u1'), 'texts that never repeat are decoded by the caller').toBeUndefined();
  });
});
