/**
 * Progress display for long migrations: on a terminal, one bar per table redrawn in place (rows, rate, ETA);
 * elsewhere, a plain line whenever a table changes phase or moves another 10%.
 */

/** What is known about one table at a moment. */
export interface TableProgressView {
  table: string;
  phase: string;
  rows: number;
  estimatedRows: number;
  partitionsDone: number;
  partitionsTotal: number;
  /** When the table started copying (ms). */
  startedAtMs: number;
}

/** Something a progress display writes to. */
export interface ProgressOutput {
  write(text: string): void;
  isTTY?: boolean;
  columns?: number;
}

/** Formats a row rate and an ETA for people. */
export function describeRate(rows: number, estimatedRows: number, elapsedMs: number): { rate: string; eta: string } {
  // Under half a second of history gives a meaningless rate.
  const perSecond = elapsedMs >= 500 ? (rows * 1000) / elapsedMs : 0;
  const left = Math.max(0, estimatedRows - rows);
  const etaSeconds = perSecond > 0 ? Math.round(left / perSecond) : undefined;
  return {
    rate: perSecond > 0 ? `${formatCount(Math.round(perSecond))} rows/s` : '-- rows/s',
    eta: etaSeconds === undefined ? '--' : etaSeconds >= 60 ? `${Math.floor(etaSeconds / 60)}m${String(etaSeconds % 60).padStart(2, '0')}s` : `${etaSeconds}s`,
  };
}

/**
 * 1234567 -> "1,234,567". Whole numbers are grouped here: the first `toLocaleString` of a process loads the ICU
 * locale data (10-50 ms of the main thread's CPU while the copy needs every core); anything else goes to it.
 */
export function formatCount(n: number): string {
  if (!Number.isSafeInteger(n)) return n.toLocaleString('en-US');
  const digits = String(Math.abs(n));
  let out = digits.slice(0, ((digits.length - 1) % 3) + 1);
  for (let i = out.length; i < digits.length; i += 3) out += `,${digits.slice(i, i + 3)}`;
  return n < 0 || Object.is(n, -0) ? `-${out}` : out;
}

/** Renders table progress to a terminal or a log. */
export class ProgressDisplay {
  private drawnLines = 0;
  private readonly lastPlain = new Map<string, string>();

  constructor(
    private readonly out: ProgressOutput,
    private readonly now: () => number = Date.now,
  ) {}

  /** Shows the current state of every table. */
  update(tables: TableProgressView[]): void {
    if (this.out.isTTY) this.drawBars(tables);
    else this.writePlain(tables);
  }

  /** Leaves the final picture on screen. */
  finish(tables: TableProgressView[]): void {
    this.update(tables);
    this.drawnLines = 0;
  }

  private drawBars(tables: TableProgressView[]): void {
    const width = Math.max(20, Math.min(this.out.columns ?? 100, 140));
    const nameWidth = Math.min(28, Math.max(8, ...tables.map((t) => t.table.length)));
    const barWidth = Math.max(10, width - nameWidth - 62);
    const lines = tables.map((t) => {
      const fraction =
        t.phase === 'done' || t.phase === 'committed'
          ? 1
          : t.estimatedRows > 0
            ? Math.min(1, t.rows / t.estimatedRows)
            : t.partitionsTotal > 0
              ? t.partitionsDone / t.partitionsTotal
              : 0;
      const filled = Math.round(fraction * barWidth);
      const { rate, eta } = describeRate(t.rows, t.estimatedRows, this.now() - t.startedAtMs);
      const name = t.table.length > nameWidth ? `${t.table.slice(0, nameWidth - 1)}…` : t.table.padEnd(nameWidth);
      return `${name} [${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}] ${String(Math.round(fraction * 100)).padStart(3)}% ${formatCount(t.rows).padStart(11)} rows ${rate.padStart(15)} ETA ${eta.padStart(6)} ${t.phase}`;
    });
    let text = this.drawnLines > 0 ? `\u001b[${this.drawnLines}F` : '';
    text += lines.map((l) => `\u001b[2K${l}`).join('\n') + '\n';
    this.out.write(text);
    this.drawnLines = lines.length;
  }

  private writePlain(tables: TableProgressView[]): void {
    for (const t of tables) {
      const decile = t.estimatedRows > 0 ? Math.min(10, Math.floor((10 * t.rows) / t.estimatedRows)) : 0;
      const key = `${t.phase}:${decile}`;
      if (this.lastPlain.get(t.table) === key) continue;
      this.lastPlain.set(t.table, key);
      const { rate } = describeRate(t.rows, t.estimatedRows, this.now() - t.startedAtMs);
      this.out.write(`${t.table}: ${t.phase}, ${formatCount(t.rows)} rows, partitions ${t.partitionsDone}/${t.partitionsTotal}, ${rate}\n`);
    }
  }
}
