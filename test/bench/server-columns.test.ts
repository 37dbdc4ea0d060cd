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
        wholeRowMs: 2_000,
      },
      2_000_000,
    );
    expect(lines.map((line) => line.replace(/\s+/g, ' ').trim())).toEqual([
      "the scan and each row's framing (no column) 0.15 s 15%",
      'id bigint 0.05 s 5%',
      'attrs jsonb 0.45 s 45%',
      'every column (SELECT *) 1.00 s 100%',
    ]);
  });
});
