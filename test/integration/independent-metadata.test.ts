/**
 * The independent metadata reader's JSON step: 64-bit integers survive as text, and digits inside string values
 * (checksums, ids in a summary) are left exactly as they are.
 */
import { describe, expect, it } from 'vitest';
import { parseJsonKeepingLongs } from './support/independent-metadata';

describe('parseJsonKeepingLongs', () => {
  it('keeps integers of 16 or more digits as text and everything else as JSON.parse reads it', () => {
    const text = '{"current-snapshot-id": 9223372036854775807, "ids":[-1234567890123456789,12,3.5e2], "v": 2, "f": 0.25}';
    expect(parseJsonKeepingLongs(text)).toEqual({ 'current-snapshot-id': '9223372036854775807', ids: ['-1234567890123456789', 12, 350], v: 2, f: 0.25 });
  });

  it('never touches digits inside strings, escaped quotes included', () => {
    const summary = '0000000000000001,1234567890123456,9999999999999999';
    const text = JSON.stringify({ summary: { checksums: summary, quoted: 'say "1234567890123456789", then \\\\' } }).replace(
      '}}',
      ', "id": 1234567890123456789}}',
    );
    expect(parseJsonKeepingLongs(text)).toEqual({ summary: { checksums: summary, quoted: 'say "1234567890123456789", then \\\\', id: '1234567890123456789' } });
  });
});
