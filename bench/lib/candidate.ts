/** What every Parquet writer under test provides to the benchmark. */
import type { OrdersData } from './orders-data';

/** Files one timed write produced. */
export interface WrittenFiles {
  /** Local paths of the Parquet files, readable by the inspectors. */
  paths: string[];
  /** Total bytes written. */
  bytes: number;
  /** Time of the write's parts, where the writer has distinct ones (ingest vs encode, say). */
  phasesMs?: Record<string, number>;
}

/** The timed part: writes the prepared data to `outputPath` (or next to it, for writers that choose names). */
export type TimedWrite = (outputPath: string) => Promise<WrittenFiles>;

/** A writer ready to be measured. */
export interface Candidate {
  /** Converts the shared data into this writer's natural input, once and untimed; returns the timed write. */
  prepare(data: OrdersData): Promise<TimedWrite>;
  /** Releases native resources (database handles and the like). */
  close?(): Promise<void>;
  /** A remark for the report, such as a setting that differs from the other candidates. */
  note?: string;
}

/** Thrown when a candidate cannot run in this checkout at all, as opposed to failing while it runs. */
export class CandidateUnavailableError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'CandidateUnavailableError';
  }
}

/** Names of the candidates, in report order. */
export const CANDIDATE_NAMES = ['parquet-wasm', 'hyparquet-writer', 'duckdb', 'icebridge'] as const;

/** One of {@link CANDIDATE_NAMES}. */
export type CandidateName = (typeof CANDIDATE_NAMES)[number];

/** Type guard for {@link CandidateName}. */
export function isCandidateName(name: string): name is CandidateName {
  return (CANDIDATE_NAMES as readonly string[]).includes(name);
}

/** Loads a candidate lazily so a broken or missing library only affects its own row of the report. */
export async function loadCandidate(name: CandidateName): Promise<Candidate> {
  switch (name) {
    case 'parquet-wasm':
      return (await import('./writer-parquet-wasm.js')).createParquetWasmCandidate();
    case 'hyparquet-writer':
      return (await import('./writer-hyparquet.js')).createHyparquetCandidate();
    case 'duckdb':
      return (await import('./writer-duckdb.js')).createDuckDbCandidate();
    case 'icebridge':
      return (await import('./writer-icebridge.js')).createIcebridgeCandidate();
  }
}
