/**
 * The steps of a drill, each recorded with its outcome and time as it runs, so an operator sees which part of a
 * recovery path held and which did not. The first failed step ends the drill; the ones after it are not run.
 */
import { errorMessage } from '../errors';

/** One step as it went. */
export interface DrillStep {
  name: string;
  outcome: 'passed' | 'failed';
  /** Wall time of the step, milliseconds. */
  ms: number;
  /** What the step established (a snapshot id, a row count…), or why it failed. */
  detail?: string;
}

/** A step whose proof did not hold: the message says what was expected and what was found. */
export class DrillCheckFailed extends Error {}

/** Throws DrillCheckFailed with `message` unless `condition` holds. */
export function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new DrillCheckFailed(message);
}

/** Records steps in order; `run` stops at the first failure by rethrowing it as a DrillStepFailed. */
export class DrillSteps {
  readonly steps: DrillStep[] = [];

  constructor(private readonly onStep: (step: DrillStep) => void = () => undefined) {}

  /** Runs one step and returns its value; `detail` turns the value into what the step record says it established. */
  async run<T>(name: string, fn: () => Promise<T>, detail?: (value: T) => string | undefined): Promise<T> {
    const started = Date.now();
    try {
      const value = await fn();
      this.record({ name, outcome: 'passed', ms: Date.now() - started, ...optional(detail?.(value)) });
      return value;
    } catch (error) {
      this.record({ name, outcome: 'failed', ms: Date.now() - started, detail: errorMessage(error) });
      throw new DrillStepFailed(name, error);
    }
  }

  private record(step: DrillStep): void {
    this.steps.push(step);
    this.onStep(step);
  }
}

/** The step that ended a drill. */
export class DrillStepFailed extends Error {
  constructor(
    readonly step: string,
    readonly failure: unknown,
  ) {
    super(`${step}: ${errorMessage(failure)}`);
  }
}

function optional(detail: string | undefined): { detail?: string } {
  return detail === undefined ? {} : { detail };
}
