/** NCRONTAB parsing and next occurrences (UTC), and the slot a timer firing belongs to. */
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../shared/errors';
import { SCHEDULED_JOBS, jobSchedule, onDemandSlot, timerSlot } from '../../shared/ops/job-registry';
import { nextOccurrence, parseNcrontab } from '../../shared/ops/ncrontab';

const next = (expression: string, after: string): string | undefined => nextOccurrence(parseNcrontab(expression), new Date(after))?.toISOString();

describe('parseNcrontab', () => {
  it('reads values, ranges, steps, lists and names', () => {
    const s = parseNcrontab('*/15 0,30 1-3 * jan-mar mon');
    expect([...s.seconds]).toEqual([0, 15, 30, 45]);
    expect([...s.minutes]).toEqual([0, 30]);
    expect([...s.hours]).toEqual([1, 2, 3]);
    expect([...s.months]).toEqual([1, 2, 3]);
    expect([...s.weekdays]).toEqual([1]);
    expect([...parseNcrontab('0 0 0 * * 7').weekdays]).toEqual([0]);
    expect([...parseNcrontab('0 0 0 * * 5/1').weekdays]).toEqual([5, 6]);
  });

  it('refuses what is not six valid fields, saying which', () => {
    for (const [expression, reason] of [
      ['0 0 2 * *', /six fields/],
      ['60 0 2 * * *', /second "60" is not in 0-59/],
      ['0 0 24 * * *', /hour "24"/],
      ['0 0 5-2 * * *', /runs backwards/],
      ['0 0 */0 * * *', /step "0"/],
      ['0 0 x * * *', /hour "x"/],
    ] as const) {
      expect(() => parseNcrontab(expression), expression).toThrow(ValidationError);
      expect(() => parseNcrontab(expression), expression).toThrow(reason);
    }
  });
});

describe('nextOccurrence', () => {
  it('finds the next time strictly after, across days, months and years', () => {
    expect(next('0 0 2 * * *', '2026-12-06T01:59:59.500Z')).toBe('2026-12-06T02:00:00.000Z');
    expect(next('0 0 2 * * *', '2026-12-06T02:00:00.000Z')).toBe('2026-12-07T02:00:00.000Z');
    expect(next('0 30 3 1 * *', '2026-12-06T00:00:00Z')).toBe('2027-01-01T03:30:00.000Z');
    expect(next('*/10 * * * * *', '2026-12-06T10:00:05Z')).toBe('2026-12-06T10:00:10.000Z');
    expect(next('0 0 0 29 2 *', '2026-03-01T00:00:00Z')).toBe('2028-02-29T00:00:00.000Z');
  });

  it('matches day of month or day of week when both are given, as cron does', () => {
    // 2026-12-06 is a Sunday; the 10th is a Thursday.
    expect(next('0 0 0 10 * 0', '2026-12-06T00:00:01Z')).toBe('2026-12-10T00:00:00.000Z');
    expect(next('0 0 0 * * 1', '2026-12-06T00:00:01Z')).toBe('2026-12-07T00:00:00.000Z');
  });

  it('finds nothing for a date that never comes', () => {
    expect(next('0 0 0 31 2 *', '2026-01-01T00:00:00Z')).toBeUndefined();
  });
});

describe('slots and schedules of the jobs', () => {
  it('gives a nightly schedule the UTC date and others the UTC minute, whatever the millisecond', () => {
    const nightly = parseNcrontab('0 0 2 * * *');
    expect(timerSlot(nightly, new Date('2026-12-06T02:00:00.001Z'))).toBe('2026-12-06');
    expect(timerSlot(nightly, new Date('2026-12-06T02:00:59.999Z'))).toBe('2026-12-06');
    const hourly = parseNcrontab('0 0 * * * *');
    expect(timerSlot(hourly, new Date('2026-12-06T02:00:00.010Z'))).toBe('2026-12-06T0200');
    expect(onDemandSlot(new Date('2026-12-06T10:15:00.123Z'))).toBe('now-20261206T101500123Z');
  });

  it('reads each job schedule from its setting, names the setting when it is wrong, and defaults when unset', () => {
    for (const job of SCHEDULED_JOBS) {
      expect(jobSchedule(job, {}).expression).toBe(job.defaultSchedule);
      expect(jobSchedule(job, { [job.scheduleSetting]: '0 15 4 * * *' }).expression).toBe('0 15 4 * * *');
      expect(() => jobSchedule(job, { [job.scheduleSetting]: 'daily' })).toThrow(job.scheduleSetting);
    }
    expect(SCHEDULED_JOBS.map((j) => j.scheduleSetting)).toEqual([
      'ICEBRIDGE_CONSISTENCY_SCHEDULE',
      'ICEBRIDGE_MAINTENANCE_SCHEDULE',
      'ICEBRIDGE_DRIFT_SCHEDULE',
      'ICEBRIDGE_WATCH_SCHEDULE',
    ]);
  });
});
