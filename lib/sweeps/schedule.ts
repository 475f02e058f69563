import { Cron } from 'croner';
import { parseScheduleExpression } from './schedule-expression.ts';

/**
 * Next run times of EventBridge Scheduler expressions (lib/sweeps/schedule-expression.ts checks
 * them): in AWS, Scheduler runs them; locally `npm start` computes the same times with croner
 * (AWS's day-of-week 1-7 is Sunday-Saturday, croner's 0-6, so numbers are shifted).
 */

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

export type ParsedSchedule =
  | { readonly kind: 'rate'; readonly seconds: number }
  | { readonly kind: 'cron'; readonly pattern: string };

/** The schedule as croner runs it, or a message saying what is wrong with it. */
export function parseSchedule(expression: string): ParsedSchedule | string {
  const parsed = parseScheduleExpression(expression);
  if (typeof parsed === 'string' || parsed.kind === 'rate') return parsed;
  const pattern = parsed.fields.map(toCronerField).join(' ');
  try {
    new Cron(pattern, { paused: true, timezone: 'UTC' });
  } catch (error) {
    return `cron() is not valid: ${(error as Error).message}`;
  }
  return { kind: 'cron', pattern };
}

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
