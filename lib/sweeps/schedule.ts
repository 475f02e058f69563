import { Cron } from 'croner';
import * as z from 'zod';

/**
 * EventBridge Scheduler expressions, as a sweep declares them: `rate(<n> minute|minutes|hour|
 * hours|day|days)` or `cron(<minutes> <hours> <day-of-month> <month> <day-of-week> <year>)`, in a
 * time zone. In AWS, Scheduler runs them; locally, `npm start` computes the same next run times
 * with croner (AWS's day-of-week 1-7 is Sunday-Saturday, croner's 0-6, so numbers are shifted).
 */

const RATE = /^rate\((\d{1,5}) (minute|minutes|hour|hours|day|days)\)$/;
const CRON = /^cron\((.+)\)$/;
const UNIT_SECONDS = { minute: 60, hour: 3600, day: 86_400 } as const;

export type ParsedSchedule =
  | { readonly kind: 'rate'; readonly seconds: number }
  | { readonly kind: 'cron'; readonly pattern: string };

// AWS writes `0/15` for "every 15 from 0"; croner wants a range or a wildcard before the step.
const FIELD_MAX = [59, 23, 31, 12, 7] as const;

function toCronerField(field: string, index: number): string {
  const stepped = field.replace(/^(\d+)\/(\d+)$/, (_, start: string, step: string) => {
    return `${start}-${FIELD_MAX[index]}/${step}`;
  });
  if (index !== 4) return stepped;
  // Day of week: AWS 1 (Sunday) … 7 (Saturday) → croner 0 … 6. Names and `L`/`#` stay.
  return stepped.replace(/(^|[-,/])(\d)(?=$|[-,#L/])/g, (_, before: string, day: string) => {
    const value = Number(day);
    return value >= 1 && value <= 7 ? `${before}${value - 1}` : `${before}${day}`;
  });
}

/** The schedule, or a message saying what is wrong with it. */
export function parseSchedule(expression: string): ParsedSchedule | string {
  const rate = RATE.exec(expression);
  if (rate) {
    const value = Number(rate[1]);
    const unit = rate[2] ?? '';
    const singular = unit.replace(/s$/, '') as keyof typeof UNIT_SECONDS;
    if (value < 1) return 'a rate must be at least 1';
    if ((value === 1) !== !unit.endsWith('s')) {
      return `write rate(1 ${singular}) for one, rate(${value === 1 ? 2 : value} ${singular}s) for more`;
    }
    return { kind: 'rate', seconds: value * UNIT_SECONDS[singular] };
  }
  const cron = CRON.exec(expression);
  if (!cron) return 'must be rate(<n> minutes|hours|days) or cron(<6 fields>)';
  const fields = (cron[1] ?? '').trim().split(/\s+/);
  if (fields.length !== 6) {
    return 'cron() takes 6 fields: minutes hours day-of-month month day-of-week year';
  }
  const [dayOfMonth, dayOfWeek, year] = [fields[2], fields[4], fields[5]];
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) {
    return 'cron() needs ? in exactly one of day-of-month and day-of-week, as EventBridge does';
  }
  if (year !== '*') return 'cron() year must be * (sweeps repeat every year)';
  const pattern = fields.slice(0, 5).map(toCronerField).join(' ');
  try {
    new Cron(pattern, { paused: true, timezone: 'UTC' });
  } catch (error) {
    return `cron() is not valid: ${(error as Error).message}`;
  }
  return { kind: 'cron', pattern };
}

export const ScheduleExpressionSchema = z.string().superRefine((expression, ctx) => {
  const parsed = parseSchedule(expression);
  if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed });
});

/** An IANA time zone name, as Scheduler's `ScheduleExpressionTimezone` takes it. */
export const TimeZoneSchema = z.string().refine(
  (zone) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: zone });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must be an IANA time zone such as UTC or Europe/Paris' },
);

/**
 * The first run strictly after `after`. A rate counts from `since` (when the schedule was
 * created: in AWS the deployment, locally `npm start`), as Scheduler does.
 */
export function nextRun(
  expression: string,
  timezone: string,
  after: Date,
  since: Date = after,
): Date {
  const parsed = parseSchedule(expression);
  if (typeof parsed === 'string') throw new TypeError(`${expression}: ${parsed}`);
  if (parsed.kind === 'rate') {
    const elapsed = Math.max(0, after.getTime() - since.getTime());
    const periods = Math.floor(elapsed / (parsed.seconds * 1000)) + 1;
    return new Date(since.getTime() + periods * parsed.seconds * 1000);
  }
  const next = new Cron(parsed.pattern, { paused: true, timezone }).nextRun(after);
  if (next === null) throw new TypeError(`${expression} never runs again`);
  return next;
}
