import * as z from 'zod';

/**
 * EventBridge Scheduler expressions, as a sweep declares them, checked without a cron library (the
 * run-sweep function carries this module): `rate(<n> minute|minutes|hour|hours|day|days)`, or
 * `cron(<minutes> <hours> <day-of-month> <month> <day-of-week> <year>)` with `?` in exactly one
 * of the day fields and `*` for the year. `lib/sweeps/schedule.ts` computes run times.
 */

const RATE = /^rate\((\d{1,5}) (minute|minutes|hour|hours|day|days)\)$/;
const CRON = /^cron\((.+)\)$/;
export const RATE_UNIT_SECONDS = { minute: 60, hour: 3600, day: 86_400 } as const;

export type ScheduleExpression =
  | { readonly kind: 'rate'; readonly seconds: number }
  | { readonly kind: 'cron'; readonly fields: readonly string[] };

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const FIELDS = [
  { name: 'minutes', min: 0, max: 59, names: [] as string[] },
  { name: 'hours', min: 0, max: 23, names: [] as string[] },
  { name: 'day-of-month', min: 1, max: 31, names: [] as string[] },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  { name: 'day-of-week', min: 1, max: 7, names: DAYS },
] as const;

/** One cron field's list (`1,15`, `0-59/15`, `MON-FRI`, `L`, `6#3`), or a message. */
function checkField(value: string, index: number): string | undefined {
  const field = FIELDS[index];
  if (field === undefined) return 'too many fields';
  if (value === '*' || (value === '?' && (index === 2 || index === 4))) return undefined;
  const number = (text: string) => {
    const named = field.names.indexOf(text.toUpperCase());
    const parsed = named >= 0 ? named + field.min : /^\d{1,2}$/.test(text) ? Number(text) : NaN;
    return parsed >= field.min && parsed <= field.max ? parsed : undefined;
  };
  for (const part of value.split(',')) {
    if (index === 2 && /^(L|LW|\d{1,2}W)$/.test(part)) continue;
    if (
      index === 4 &&
      /^[1-7A-Z]{1,3}(L|#[1-5])$/i.test(part) &&
      number(part.replace(/(L|#[1-5])$/i, '')) !== undefined
    )
      continue;
    const [range, step] = part.split('/');
    if (step !== undefined && !/^\d{1,2}$/.test(step)) return `${field.name}: bad step in ${part}`;
    if (range === '*' && step !== undefined) continue;
    const [from, to] = (range ?? '').split('-');
    if (number(from ?? '') === undefined || (to !== undefined && number(to) === undefined)) {
      return `${field.name}: ${part} is not ${field.min}-${field.max}${field.names.length > 0 ? ` or ${field.names[0]}-${field.names.at(-1)}` : ''}`;
    }
  }
  return undefined;
}

/** The schedule, or a message saying what is wrong with it. */
export function parseScheduleExpression(expression: string): ScheduleExpression | string {
  const rate = RATE.exec(expression);
  if (rate) {
    const value = Number(rate[1]);
    const unit = rate[2] ?? '';
    const singular = unit.replace(/s$/, '') as keyof typeof RATE_UNIT_SECONDS;
    if (value < 1) return 'a rate must be at least 1';
    if ((value === 1) !== !unit.endsWith('s')) {
      return `write rate(1 ${singular}) for one, rate(${value === 1 ? 2 : value} ${singular}s) for more`;
    }
    return { kind: 'rate', seconds: value * RATE_UNIT_SECONDS[singular] };
  }
  const cron = CRON.exec(expression);
  if (!cron) return 'must be rate(<n> minutes|hours|days) or cron(<6 fields>)';
  const fields = (cron[1] ?? '').trim().split(/\s+/);
  if (fields.length !== 6) {
    return 'cron() takes 6 fields: minutes hours day-of-month month day-of-week year';
  }
  if ((fields[2] === '?') === (fields[4] === '?')) {
    return 'cron() needs ? in exactly one of day-of-month and day-of-week, as EventBridge does';
  }
  if (fields[5] !== '*') return 'cron() year must be * (sweeps repeat every year)';
  for (const [index, field] of fields.slice(0, 5).entries()) {
    const problem = checkField(field, index);
    if (problem !== undefined) return `cron() ${problem}`;
  }
  return { kind: 'cron', fields: fields.slice(0, 5) };
}

export const ScheduleExpressionSchema = z.string().superRefine((expression, ctx) => {
  const parsed = parseScheduleExpression(expression);
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
