/** The benchmark's lines of the server's CPU for the raw COPY, by column. */
import { describe, expect, it } from 'vitest';
import { serverColumnLines } from '../../bench/lib/server-columns';

describe('server column lines', () => {
  it('prints each cost per million rows with its share of the whole row', () => {
    const lines = serverColumnLines(
      {
        framingMs: 300,
        columns: [
          { column: 'id', type: 'bigint', serverCpuMs: 100 },
          { column: 'attrs', type: 'jsonb', serverCpuMs: 900 },
        ],
        wholeRowMs: 1_300,
      },
      2_000_000,
    );
    expect(lines.map((line) => line.replace(/\s+/g, ' ').trim())).toEqual([
      "the scan and each row's framing (no column) 0.15 s 23%",
      'id bigint 0.05 s 8%',
      'attrs jsonb 0.45 s 69%',
      'every column 0.65 s 100%',
    ]);
  });
});
