/** The progress display's frames, drawn against an injected clock so rates and ETAs are exact. */
import { describe, expect, it } from 'vitest';
import { ProgressDisplay, type TableProgressView, describeRate, formatCount } from '../../cli/support/progress';

// eslint-disable-next-line no-control-regex -- the terminal's cursor-up sequence, which starts each redrawn frame
const CURSOR_UP = /^\u001b\[\d+F/;
// eslint-disable-next-line no-control-regex -- the terminal's clear-line sequence, which starts each redrawn line
const CLEAR_LINE = /^\u001b\[2K/;

function recorder(isTTY: boolean, columns = 120): { write(text: string): void; isTTY: boolean; columns: number; frames: string[] } {
  const frames: string[] = [];
  return { write: (text: string) => void frames.push(text), isTTY, columns, frames };
}

const view = (table: string, rows: number, phase: string, partitionsDone = 0): TableProgressView => ({
  table,
  phase,
  rows,
  estimatedRows: 1_000_000,
  partitionsDone,
  partitionsTotal: 4,
  startedAtMs: 0,
});

describe('progress display', () => {
  it('draws one bar per table with rows, rate and ETA, redrawn in place', () => {
    let now = 0;
    const out = recorder(true);
    const display = new ProgressDisplay(out, () => now);
    now = 10_000;
    display.update([view('orders', 250_000, 'copying', 1), view('users', 0, 'pending')]);
    now = 20_000;
    display.update([view('orders', 500_000, 'copying', 2), view('users', 1_000_000, 'committed', 4)]);
    display.finish([view('orders', 1_000_000, 'committed', 4), view('users', 1_000_000, 'committed', 4)]);
    const [first, second, last] = out.frames;
    const lines = (frame: string): string[] =>
      frame
        .replace(CURSOR_UP, '')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => l.replace(CLEAR_LINE, ''));
    // 120 columns: names 8 wide, bars 120 - 8 - 62 = 50 wide.
    expect(lines(first!)).toEqual([
      `orders   [${'#'.repeat(13)}${'-'.repeat(37)}]  25%     250,000 rows   25,000 rows/s ETA    30s copying`,
      `users    [${'-'.repeat(50)}]   0%           0 rows       -- rows/s ETA     -- pending`,
    ]);
    expect(first!.startsWith('\u001b[2K')).toBe(true);
    // Later frames move the cursor up over the previous bars.
    expect(second!.startsWith('\u001b[2F')).toBe(true);
    expect(lines(second!)[0]).toBe(`orders   [${'#'.repeat(25)}${'-'.repeat(25)}]  50%     500,000 rows   25,000 rows/s ETA    20s copying`);
    expect(lines(second!)[1]).toBe(`users    [${'#'.repeat(50)}] 100%   1,000,000 rows   50,000 rows/s ETA     0s committed`);
    expect(lines(last!)[0]).toMatch(/^orders {3}\[#{50}\] 100% {3}1,000,000 rows {3}50,000 rows\/s ETA {5}0s committed$/);
  });

  it('writes a plain line per phase change or 10% step when not on a terminal', () => {
    let now = 0;
    const out = recorder(false);
    const display = new ProgressDisplay(out, () => now);
    now = 2_000;
    display.update([view('orders', 100_000, 'copying', 1)]);
    display.update([view('orders', 150_000, 'copying', 1)]);
    now = 4_000;
    display.update([view('orders', 200_000, 'copying', 1)]);
    display.finish([view('orders', 1_000_000, 'committed', 4)]);
    expect(out.frames).toEqual([
      'orders: copying, 100,000 rows, partitions 1/4, 50,000 rows/s\n',
      'orders: copying, 200,000 rows, partitions 1/4, 50,000 rows/s\n',
      'orders: committed, 1,000,000 rows, partitions 4/4, 250,000 rows/s\n',
    ]);
  });

  it('shows no rate before half a second of history, and minutes in long ETAs', () => {
    expect(describeRate(10, 100, 499)).toEqual({ rate: '-- rows/s', eta: '--' });
    expect(describeRate(1_000, 200_000, 1_000)).toEqual({ rate: '1,000 rows/s', eta: '3m19s' });
  });
});

describe('formatCount', () => {
  it('groups whole numbers by thousands as en-US does, and hands everything else to it', () => {
    const samples = [0, 7, 12, 999, 1_000, 12_345, 999_999, 1_000_000, 1_234_567, 10_000_000, Number.MAX_SAFE_INTEGER];
    for (const n of [...samples, ...samples.map((v) => -v)]) expect(formatCount(n), String(n)).toBe(n.toLocaleString('en-US'));
    for (let n = 1; n < 1e15; n = n * 7 + 3) expect(formatCount(n), String(n)).toBe(n.toLocaleString('en-US'));
    for (const n of [1.5, 1234.5678, 2 ** 60, Number.NaN, Number.POSITIVE_INFINITY]) expect(formatCount(n)).toBe(n.toLocaleString('en-US'));
    expect(formatCount(1_234_567)).toBe('1,234,567');
  });
});
