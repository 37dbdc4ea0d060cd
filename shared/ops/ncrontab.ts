/**
 * NCRONTAB, the six-field cron of Azure Functions timer triggers: `{second} {minute} {hour} {day} {month}
 * {day-of-week}`, each field `*`, a number, a range `a-b`, a step `*\/n` or `a-b/n`, or a comma list of those.
 * Parsed here so a wrong schedule setting fails when the app loads (naming the setting), and so the local host can
 * fire timers at the times Azure would. Times are UTC, as on Azure without WEBSITE_TIME_ZONE.
 */
import { ValidationError } from '../errors';

/** A parsed schedule: the allowed values of each field. */
export interface NcrontabSchedule {
  expression: string;
  seconds: ReadonlySet<number>;
  minutes: ReadonlySet<number>;
  hours: ReadonlySet<number>;
  days: ReadonlySet<number>;
  months: ReadonlySet<number>;
  weekdays: ReadonlySet<number>;
  /** Both day and weekday restricted: cron matches either (Vixie cron's rule, which NCRONTAB follows). */
  dayOrWeekday: boolean;
}

const FIELDS = [
  { name: 'second', min: 0, max: 59 },
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day-of-week', min: 0, max: 6 },
] as const;

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

function value(text: string, field: (typeof FIELDS)[number], expression: string): number {
  const lower = text.toLowerCase();
  const named = field.name === 'month' ? MONTHS.indexOf(lower) + 1 : field.name === 'day-of-week' ? WEEKDAYS.indexOf(lower) : -1;
  const n = named > 0 || (named === 0 && field.name === 'day-of-week') ? named : /^\d+$/.test(text) ? Number(text) : NaN;
  // Sunday may also be written 7.
  const v = field.name === 'day-of-week' && n === 7 ? 0 : n;
  if (!Number.isInteger(v) || v < field.min || v > field.max)
    throw new ValidationError(`schedule ${JSON.stringify(expression)}: ${field.name} ${JSON.stringify(text)} is not in ${field.min}-${field.max}`);
  return v;
}

function parseField(text: string, field: (typeof FIELDS)[number], expression: string): Set<number> {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const [range, stepText, extra] = part.split('/');
    if (range === undefined || range === '' || extra !== undefined)
      throw new ValidationError(`schedule ${JSON.stringify(expression)}: ${field.name} ${JSON.stringify(part)} is not a value, range or step`);
    const step = stepText === undefined ? 1 : /^\d+$/.test(stepText) && Number(stepText) > 0 ? Number(stepText) : NaN;
    if (!Number.isInteger(step))
      throw new ValidationError(`schedule ${JSON.stringify(expression)}: ${field.name} step ${JSON.stringify(stepText)} is not a positive integer`);
    let lo: number;
    let hi: number;
    if (range === '*') [lo, hi] = [field.min, field.max];
    else if (range.includes('-')) {
      const [a, b] = range.split('-');
      lo = value(a ?? '', field, expression);
      hi = value(b ?? '', field, expression);
      if (hi < lo) throw new ValidationError(`schedule ${JSON.stringify(expression)}: ${field.name} range ${JSON.stringify(range)} runs backwards`);
    } else {
      lo = value(range, field, expression);
      hi = stepText === undefined ? lo : field.max;
    }
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return out;
}

/** Parses a six-field NCRONTAB expression; a ValidationError says which field is wrong. */
export function parseNcrontab(expression: string): NcrontabSchedule {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 6)
    throw new ValidationError(`schedule ${JSON.stringify(expression)} needs six fields (second minute hour day month day-of-week), e.g. "0 30 2 * * *"`);
  const [seconds, minutes, hours, days, months, weekdays] = FIELDS.map((field, i) => parseField(parts[i]!, field, expression)) as [
    Set<number>,
    Set<number>,
    Set<number>,
    Set<number>,
    Set<number>,
    Set<number>,
  ];
  return { expression, seconds, minutes, hours, days, months, weekdays, dayOrWeekday: parts[3] !== '*' && parts[5] !== '*' };
}

function dayMatches(schedule: NcrontabSchedule, date: Date): boolean {
  if (!schedule.months.has(date.getUTCMonth() + 1)) return false;
  const day = schedule.days.has(date.getUTCDate());
  const weekday = schedule.weekdays.has(date.getUTCDay());
  return schedule.dayOrWeekday ? day || weekday : day && weekday;
}

/** The first time strictly after `after` that the schedule names, or undefined when none falls in the next 5 years. */
export function nextOccurrence(schedule: NcrontabSchedule, after: Date): Date | undefined {
  const start = Math.floor(after.getTime() / 1000) * 1000 + 1000;
  const firstDay = Date.UTC(new Date(start).getUTCFullYear(), new Date(start).getUTCMonth(), new Date(start).getUTCDate());
  const sorted = (set: ReadonlySet<number>): number[] => [...set].sort((a, b) => a - b);
  const [hours, minutes, seconds] = [sorted(schedule.hours), sorted(schedule.minutes), sorted(schedule.seconds)];
  for (let d = 0; d < 366 * 5; d++) {
    const day = new Date(firstDay + d * 86_400_000);
    if (!dayMatches(schedule, day)) continue;
    for (const h of hours)
      for (const m of minutes)
        for (const s of seconds) {
          const t = day.getTime() + ((h * 60 + m) * 60 + s) * 1000;
          if (t >= start) return new Date(t);
        }
  }
  return undefined;
}
