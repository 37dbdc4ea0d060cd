/**
 * Timer-triggered functions on the local host: `fireTimer` runs one now, as the Functions host does when its
 * schedule is due (tests, `icebridge jobs`), and `TimerScheduler` fires each on its NCRONTAB schedule (UTC) while
 * the host runs (`icebridge serve --timers`). Unlike Azure there is no schedule monitor: a firing missed while
 * nothing ran is not made up (`isPastDue` is always false), and every host process fires its own timers.
 */
import type { Timer } from '@azure/functions';
import { nextOccurrence, parseNcrontab } from '../../shared/ops/ncrontab';
import type { DurableClientBindingData } from './durable-api';
import { createInvocationContext, type HostLog } from './invocation-context';
import { hasTrigger, type FunctionRegistration } from './registry';

/** What a timer invocation needs besides the registration. */
export interface TimerInvocation {
  clientBinding: () => DurableClientBindingData;
  log: HostLog;
}

/** The registration's schedule, when it is a timer function. */
function scheduleOf(registration: FunctionRegistration): string | undefined {
  if (!hasTrigger(registration, 'timerTrigger')) return undefined;
  return typeof registration.trigger.schedule === 'string' ? registration.trigger.schedule : undefined;
}

/** Runs a timer function once; resolves when its handler has finished, rejects with its error. */
export async function fireTimer(registration: FunctionRegistration, invocation: TimerInvocation, firedAt: Date = new Date()): Promise<void> {
  const schedule = scheduleOf(registration);
  if (schedule === undefined) throw new TypeError(`function '${registration.name}' is not a timer function`);
  const next = nextOccurrence(parseNcrontab(schedule), firedAt);
  const timer: Timer = {
    isPastDue: false,
    schedule: { adjustForDST: false },
    scheduleStatus: { last: firedAt.toISOString(), next: next?.toISOString() ?? '', lastUpdated: firedAt.toISOString() },
  };
  const context = createInvocationContext(registration, invocation.log);
  for (const input of registration.extraInputs)
    if (input.type === 'durableClient' || input.type === 'orchestrationClient') context.extraInputs.set(input, invocation.clientBinding());
  await registration.handler(timer, context);
}

/** Fires every timer function of a set of registrations on its schedule until stopped. */
export class TimerScheduler {
  readonly #handles = new Map<string, NodeJS.Timeout>();
  #stopped = false;

  constructor(
    private readonly registrations: Iterable<FunctionRegistration>,
    private readonly invocation: TimerInvocation,
  ) {}

  /** Arms every timer function; returns their names and next times. */
  start(): Array<{ name: string; next: string }> {
    const armed: Array<{ name: string; next: string }> = [];
    for (const registration of this.registrations) {
      const schedule = scheduleOf(registration);
      if (schedule === undefined) continue;
      const next = this.#arm(registration, parseNcrontab(schedule));
      if (next !== undefined) armed.push({ name: registration.name, next: next.toISOString() });
    }
    return armed;
  }

  #arm(registration: FunctionRegistration, schedule: ReturnType<typeof parseNcrontab>): Date | undefined {
    if (this.#stopped) return undefined;
    const next = nextOccurrence(schedule, new Date());
    if (next === undefined) return undefined;
    // setTimeout holds at most about 24.8 days; a later occurrence is re-armed in steps.
    const delay = Math.min(next.getTime() - Date.now(), 2 ** 31 - 1);
    const handle = setTimeout(
      () => {
        this.#handles.delete(registration.name);
        if (Date.now() + 1000 < next.getTime()) {
          this.#arm(registration, schedule);
          return;
        }
        fireTimer(registration, this.invocation, next)
          .catch((error: unknown) => this.invocation.log('error', registration.name, `Executed '${registration.name}' (Failed): ${String(error)}`))
          .finally(() => this.#arm(registration, schedule));
      },
      Math.max(0, delay),
    );
    handle.unref();
    this.#handles.set(registration.name, handle);
    return next;
  }

  /** Disarms every timer (a firing already running finishes on its own). */
  stop(): void {
    this.#stopped = true;
    for (const handle of this.#handles.values()) clearTimeout(handle);
    this.#handles.clear();
  }
}
