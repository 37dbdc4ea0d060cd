import { describe, expect, it } from 'vitest';
import { displayIdent, displayQualified, quoteIdent, quoteQualified } from '../../shared/postgres/identifiers';

describe('quoteIdent', () => {
  it('always double-quotes and doubles embedded quotes', () => {
    expect(quoteIdent('actor')).toBe('"actor"');
    expect(quoteIdent('Order')).toBe('"Order"');
    expect(quoteIdent('select')).toBe('"select"');
    expect(quoteIdent('a"b;DROP TABLE x')).toBe('"a""b;DROP TABLE x"');
    expect(quoteIdent('"')).toBe('""""');
    expect(quoteIdent('Ünïcødé')).toBe('"Ünïcødé"');
    expect(quoteIdent("it's")).toBe('"it\'s"');
    expect(quoteIdent('line\nbreak')).toBe('"line\nbreak"');
  });

  it('produces text that parses back to the same single identifier', () => {
    // The quoted form must be one token: an even run of quotes inside, a quote at each end.
    for (const name of ['a"b', '""', 'x"";--', '" OR 1=1 --']) {
      const quoted = quoteIdent(name);
      const inner = quoted.slice(1, -1);
      expect(inner.replace(/""/g, '')).not.toContain('"');
      expect(inner.replace(/""/g, '"')).toBe(name);
    }
  });

  it('refuses empty names and NUL characters', () => {
    expect(() => quoteIdent('')).toThrow(/empty/);
    expect(() => quoteIdent('a\u0000b')).toThrow(/NUL/);
  });

  it('qualifies with both parts quoted', () => {
    expect(quoteQualified('edge "cases"', 'Order')).toBe('"edge ""cases"""."Order"');
  });
});

describe('displayIdent', () => {
  it('shows plain lowercase names plainly and everything else quoted, control characters escaped', () => {
    expect(displayIdent('actor')).toBe('actor');
    expect(displayIdent('Album')).toBe('"Album"');
    expect(displayIdent('a"b')).toBe('"a""b"');
    expect(displayIdent('bad\nname')).toBe('"bad\\u000aname"');
    expect(displayQualified('public', 'Ünïcødé')).toBe('public."Ünïcødé"');
  });
});
