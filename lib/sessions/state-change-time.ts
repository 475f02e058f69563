import * as z from 'zod';

/**
 * Time in a session's state, for sweeps such as "disconnected for longer than 8 hours".
 * Citrix returns `StateChangeTime` in ISO 8601 and also in the US form of its own sample
 * (`11/16/2020 2:02:49 PM`, no zone: UTC). A time that reads as neither is `undefined`, and a
 * sweep never acts on such a session.
 */

const US_TIME = /^(\d{1,2})\/(\d{1,2})\/(\d{4}) (\d{1,2}):(\d{2}):(\d{2}) ?(AM|PM)$/i;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?$/i;

/** Milliseconds since the epoch, or undefined when the text is not a time Citrix writes. */
export function parseStateChangeTime(text: string | null | undefined): number | undefined {
  const value = text?.trim();
  if (!value) return undefined;
  const us = US_TIME.exec(value);
  if (us) {
    const [, month, day, year, hour, minute, second, half] = us.map(String);
    const h = Number(hour);
    if (h < 1 || h > 12) return undefined;
    const hour24 = (h % 12) + (half?.toUpperCase() === 'PM' ? 12 : 0);
    const ms = Date.UTC(
      Number(year),
      Number(month) - 1,
      Number(day),
      hour24,
      Number(minute),
      Number(second),
    );
    // Date.UTC rolls 2/30 over into March: a date that does not exist is unreadable.
    const date = new Date(ms);
    return date.getUTCMonth() === Number(month) - 1 &&
      date.getUTCDate() === Number(day) &&
      Number(minute) < 60 &&
      Number(second) < 60
      ? ms
      : undefined;
  }
  if (!ISO_TIME.test(value)) return undefined;
  // Without a zone an ISO time is UTC here (Date.parse would read it as local time).
  const zoned = /(?:Z|[+-]\d{2}:?\d{2})$/i.test(value) ? value : `${value}Z`;
  const ms = Date.parse(zoned);
  return Number.isNaN(ms) ? undefined : ms;
}

const DURATION =
  /^P(?:(\d{1,4})W)?(?:(\d{1,4})D)?(?:T(?:(\d{1,5})H)?(?:(\d{1,6})M)?(?:(\d{1,7})S)?)?$/;

/** Seconds in an ISO 8601 duration of weeks, days, hours, minutes and seconds (`PT8H`, `P2D`). */
export function durationSeconds(text: string): number | undefined {
  const match = DURATION.exec(text);
  if (!match || text === 'P' || text.endsWith('T')) return undefined;
  const [weeks, days, hours, minutes, seconds] = match.slice(1).map((part) => Number(part ?? 0));
  return (
    (weeks ?? 0) * 604_800 +
    (days ?? 0) * 86_400 +
    (hours ?? 0) * 3600 +
    (minutes ?? 0) * 60 +
    (seconds ?? 0)
  );
}

/** A duration such as `PT8H` or `P1DT12H`; months and years are refused (their length varies). */
export const IsoDurationSchema = z.string().refine((value) => (durationSeconds(value) ?? 0) > 0, {
  message: 'must be an ISO 8601 duration of weeks, days, hours, minutes or seconds, e.g. PT8H',
});
