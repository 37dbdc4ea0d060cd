/**
 * Runs rollback drills: each in a scratch schema and namespace of its own, made at the start and removed at the end
 * whatever happened in between (unless kept for inspection), so a drill touches nothing of the user's.
 */
import { errorMessage } from '../errors';
import type { DrillEnvironment, DrillOptions } from './drill-environment';
import { type DrillStep, DrillStepFailed, DrillSteps } from './drill-steps';
import { partialFailureDrill } from './partial-failure';
import { pointInTimeDrill } from './point-in-time';
import { type Scratch, createScratch, removeScratch, scratchName } from './scratch';
import { snapshotRollbackDrill } from './snapshot-rollback';

/** The drills, in the order `all` runs them. */
export const DRILLS = {
  'snapshot-rollback': snapshotRollbackDrill,
  'point-in-time': pointInTimeDrill,
  'partial-failure': partialFailureDrill,
} as const;

/** A drill's name. */
export type DrillName = keyof typeof DRILLS;

/** True when `name` is a drill's name. */
export function isDrillName(name: string): name is DrillName {
  return Object.prototype.hasOwnProperty.call(DRILLS, name);
}

/** Options of runDrill. */
export interface RunDrillOptions extends DrillOptions {
  /** Keep the scratch schema and namespace for inspection instead of removing them. */
  keep?: boolean;
  /** Called as each step ends, for a live display. */
  onStep?: (step: DrillStep) => void;
  /** Clock of the scratch name; defaults to now. */
  now?: () => Date;
}

/** How a drill went. */
export interface DrillResult {
  drill: DrillName;
  passed: boolean;
  /** The step that failed (the cleanup's included), when one did. */
  failedStep?: string;
  steps: DrillStep[];
  /** The scratch schema and namespace (the same name), and whether they were kept. */
  scratch: { name: string; kept: boolean };
}

/** The name of the cleanup step, as results report it. */
export const CLEANUP_STEP = 'remove the scratch schema and namespace';

/** Runs one drill in fresh scratch objects, then removes them (unless `keep`); a failed step is reported, not thrown. */
export async function runDrill(name: DrillName, drill: DrillEnvironment, options: RunDrillOptions = {}): Promise<DrillResult> {
  const steps = new DrillSteps(options.onStep);
  const scratchAt = scratchName((options.now ?? (() => new Date()))());
  let failedStep: string | undefined;
  let scratch: Scratch | undefined;
  try {
    scratch = await steps.run(
      'create the scratch schema',
      () => createScratch(drill.env, scratchAt),
      (s) => s.name,
    );
    await DRILLS[name](drill, scratch, steps, options);
  } catch (error) {
    // Every part of a drill runs as a step; anything else escaping is still a failure, and the cleanup still runs.
    failedStep = error instanceof DrillStepFailed ? error.step : `unexpected error: ${errorMessage(error)}`;
  }
  if (scratch !== undefined && !options.keep) {
    const made = scratch;
    try {
      await steps.run(
        CLEANUP_STEP,
        () => removeScratch(drill.env, made),
        (r) => `schema ${r.schemaDropped ? 'dropped' : 'already gone'}, ${r.tablesDropped} Iceberg table(s) purged, ${r.filesDeleted} other file(s) deleted`,
      );
    } catch {
      failedStep ??= CLEANUP_STEP;
    }
  }
  return {
    drill: name,
    passed: failedStep === undefined,
    ...(failedStep === undefined ? {} : { failedStep }),
    steps: steps.steps,
    scratch: { name: scratchAt, kept: scratch !== undefined && options.keep === true },
  };
}
