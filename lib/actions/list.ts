import * as z from 'zod';
import { FreeText } from './declaration.ts';
import {
  ACTION_STATUSES,
  ActionIdSchema,
  ActionRecordSchema,
  type ActionStatus,
  ActionTypeSchema,
} from './schema.ts';
import { ActionTargetViewSchema } from './view.ts';

/*
 * `GET /v1/actions`: which actions a person can find, and how the actions table indexes them.
 *
 * Two global secondary indexes, both sorted by `createdAt` so that a Query reads newest first:
 * - `byCreatedAt`, partitioned by `listMonth` (`2026-12`, written by the store's `create`): a
 *   month is a bounded partition, and a listing walks the months from now back to `since`;
 * - `byTicket`, partitioned by `ticket`: sparse (only records with a ticket), one Query finds
 *   every action of an incident, however old.
 * Both project the list item's fields (INCLUDE): a page is read from the index alone, without a
 * GetItem per action and without the results, plans and approvals a full record holds.
 */

/** The furthest back `since` may reach: the longest record retention (`ACTION_RECORD_TTL_DAYS`). */
export const LIST_MAX_DAYS = 3650;
/** Where a listing without `since` stops: the default record retention, 400 days. */
export const LIST_DEFAULT_DAYS = 400;
export const LIST_LIMIT = { default: 25, max: 100 } as const;

const DAY_SECONDS = 86_400;

/** The fields of a record a listing reads from the indexes: what the store's `list` returns. */
export const ListedActionSchema = ActionRecordSchema.pick({
  actionId: true,
  action: true,
  status: true,
  target: true,
  reason: true,
  ticket: true,
  requestedBy: true,
  dryRun: true,
  createdAt: true,
  updatedAt: true,
  summary: true,
}).extend({
  /** The runbook run a step's action belongs to. */
  parentActionId: ActionIdSchema.optional(),
});
export type ListedAction = z.infer<typeof ListedActionSchema>;

/** The indexes of the actions table, their keys, and the attributes each holds besides its keys. */
export const ACTIONS_TABLE_INDEXES = {
  byCreatedAt: { partitionKey: 'listMonth', sortKey: 'createdAt' },
  byTicket: { partitionKey: 'ticket', sortKey: 'createdAt' },
} as const satisfies Record<string, { partitionKey: string; sortKey: 'createdAt' }>;
export type ActionsTableIndex = keyof typeof ACTIONS_TABLE_INDEXES;
export const ACTIONS_TABLE_INDEX_NAMES = Object.keys(ACTIONS_TABLE_INDEXES) as ActionsTableIndex[];

/** The listed fields an index keeps besides its own and the table's keys (INCLUDE projection). */
export function projectedAttributesOf(index: ActionsTableIndex): string[] {
  const keys = new Set<string>(['actionId', ...Object.values(ACTIONS_TABLE_INDEXES[index])]);
  return Object.keys(ListedActionSchema.shape).filter((field) => !keys.has(field));
}

export { listMonthOf } from './list-month.ts';

/** The month before `month` (`2026-01` → `2025-12`). */
export function previousMonth(month: string): string {
  const [year, number] = month.split('-').map(Number) as [number, number];
  return number === 1 ? `${year - 1}-12` : `${year}-${String(number - 1).padStart(2, '0')}`;
}

const MonthSchema = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/);

/**
 * Where a listing continues: the month partition (walking `byCreatedAt`) and the last action
 * read in it. Opaque to callers, as base64url JSON; a changed token only moves where the
 * listing starts, within what the caller may list anyway.
 */
export const ListPositionSchema = z.strictObject({
  month: MonthSchema.optional(),
  after: z.strictObject({ actionId: ActionIdSchema, createdAt: z.iso.datetime() }).optional(),
});
export type ListPosition = z.infer<typeof ListPositionSchema>;

export const encodeListPosition = (position: ListPosition): string =>
  Buffer.from(JSON.stringify(position)).toString('base64url');

function decodeListPosition(token: string): ListPosition | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
  try {
    const parsed = ListPositionSchema.safeParse(
      JSON.parse(Buffer.from(token, 'base64url').toString('utf8')),
    );
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** `since`: a moment (`{ at }`, epoch ms) or a span back from now (`{ secondsAgo }`). */
export type SinceFilter = { readonly at: number } | { readonly secondsAgo: number };

// Weeks, days, hours, minutes, seconds: fixed lengths. Years and months vary, so they are refused.
const DURATION =
  /^P(?!$)(?:(\d{1,6})W)?(?:(\d{1,6})D)?(?:T(?=\d)(?:(\d{1,8})H)?(?:(\d{1,8})M)?(?:(\d{1,10})S)?)?$/;
const DURATION_UNITS = [7 * DAY_SECONDS, DAY_SECONDS, 3600, 60, 1] as const;

function parseSince(value: string, ctx: z.RefinementCtx): SinceFilter {
  const tooFar = `must reach at most ${LIST_MAX_DAYS} days back`;
  if (value.startsWith('P') || value.startsWith('p')) {
    const match = DURATION.exec(value.toUpperCase());
    if (match === null) {
      ctx.addIssue({
        code: 'custom',
        message:
          'must be an ISO 8601 duration in weeks, days, hours, minutes or seconds (P7D, PT24H)',
      });
      return z.NEVER;
    }
    const secondsAgo = DURATION_UNITS.reduce(
      (total, unit, index) => total + Number(match[index + 1] ?? 0) * unit,
      0,
    );
    if (secondsAgo > LIST_MAX_DAYS * DAY_SECONDS) ctx.addIssue({ code: 'custom', message: tooFar });
    return { secondsAgo };
  }
  if (!z.iso.datetime({ offset: true }).safeParse(value).success) {
    ctx.addIssue({
      code: 'custom',
      message: 'must be an ISO 8601 date-time (2026-12-01T00:00:00Z) or duration (P7D, PT24H)',
    });
    return z.NEVER;
  }
  const at = Date.parse(value);
  if (at < Date.now() - LIST_MAX_DAYS * DAY_SECONDS * 1000) {
    ctx.addIssue({ code: 'custom', message: tooFar });
  }
  return { at };
}

/** The earliest `createdAt` a listing reaches, as of `now`. */
export function sinceInstant(since: SinceFilter | undefined, now: Date): Date {
  if (since === undefined) return new Date(now.getTime() - LIST_DEFAULT_DAYS * DAY_SECONDS * 1000);
  return 'at' in since ? new Date(since.at) : new Date(now.getTime() - since.secondsAgo * 1000);
}

const StatusesSchema = z
  .string()
  .max(400, { abort: true })
  .transform((value, ctx): ActionStatus[] => {
    const names = value.split(',').map((name) => name.trim());
    const unknown = names.filter((name) => !(ACTION_STATUSES as readonly string[]).includes(name));
    if (unknown.length > 0) {
      ctx.addIssue({
        code: 'custom',
        message: `${unknown.map((name) => JSON.stringify(name)).join(', ')} is not a status; one of ${ACTION_STATUSES.join(', ')}`,
      });
      return z.NEVER;
    }
    return [...new Set(names as ActionStatus[])];
  });

/**
 * The query string of `GET /v1/actions`, every parameter optional and bounded; an unknown
 * parameter is refused rather than ignored, so that a misspelt filter never lists everything.
 */
export const ListActionsQuerySchema = z
  .strictObject({
    status: StatusesSchema.optional().meta({
      description: `Only actions in these statuses, comma-separated: ${ACTION_STATUSES.join(', ')}.`,
    }),
    action: ActionTypeSchema.optional().meta({ description: 'Only actions of this type.' }),
    target: z.string().trim().min(1).max(256).optional().meta({
      description:
        'Only actions whose target names this text (case-insensitive, part of any target value: a user, device id, administrator, sweep or runbook).',
    }),
    since: z
      .string()
      .max(64)
      .transform(parseSince)
      .optional()
      .meta({
        description: `Only actions created since then: an ISO 8601 date-time, or a duration back from now in weeks, days, hours, minutes or seconds (PT24H, P7D); at most ${LIST_MAX_DAYS} days back. Default: ${LIST_DEFAULT_DAYS} days.`,
      }),
    ticket: FreeText(128).optional().meta({
      description: 'Only actions with exactly this ticket (read from its own index).',
    }),
    limit: z
      .string()
      .regex(/^\d{1,3}$/, `must be a whole number from 1 to ${LIST_LIMIT.max}`)
      .transform(Number)
      .pipe(
        z
          .int()
          .min(1, `must be a whole number from 1 to ${LIST_LIMIT.max}`)
          .max(LIST_LIMIT.max, `must be a whole number from 1 to ${LIST_LIMIT.max}`),
      )
      .default(LIST_LIMIT.default)
      .meta({
        description: `At most this many actions (1–${LIST_LIMIT.max}, default ${LIST_LIMIT.default}).`,
      }),
    nextToken: z
      .string()
      .max(2048, { abort: true })
      .transform((token, ctx): ListPosition => {
        const position = decodeListPosition(token);
        if (position === undefined) {
          ctx.addIssue({ code: 'custom', message: 'must be a nextToken returned by this API' });
          return z.NEVER;
        }
        return position;
      })
      .optional()
      .meta({ description: 'The `nextToken` of the previous page, to continue the listing.' }),
  })
  .superRefine((query, ctx) => {
    // A ticket's listing reads one partition; any other walks the months: a token fits one.
    const position = query.nextToken;
    if (position === undefined) return;
    const fits = query.ticket === undefined ? position.month !== undefined : !position.month;
    if (!fits) {
      ctx.addIssue({
        code: 'custom',
        path: ['nextToken'],
        message: 'continues another listing: repeat the filters of the page it came from',
      });
    }
  })
  .meta({
    id: 'ListActionsQuery',
    description:
      'Filters and paging of GET /v1/actions. Newest first; every filter given must match.',
  });
export type ListActionsQuery = z.output<typeof ListActionsQuerySchema>;

/** Whether an action's target names `text`: part of any of its values, ignoring case. */
export function targetNames(target: unknown, text: string): boolean {
  const wanted = text.toLocaleLowerCase('en-US');
  const matches = (value: unknown): boolean => {
    if (typeof value === 'string') return value.toLocaleLowerCase('en-US').includes(wanted);
    if (Array.isArray(value)) return value.some(matches);
    if (typeof value === 'object' && value !== null) return Object.values(value).some(matches);
    return false;
  };
  return matches(target);
}

/** One action in a listing: who asked what, and how it stands (the full view has the rest). */
export const ActionListItemSchema = z
  .object({
    actionId: ActionIdSchema,
    action: ActionTypeSchema,
    status: z.enum(ACTION_STATUSES),
    target: ActionTargetViewSchema,
    reason: z.string(),
    ticket: z.string().optional(),
    requestedBy: z.string().optional(),
    dryRun: z.boolean(),
    createdAt: z.string(),
    updatedAt: z.string(),
    summary: z.string().optional(),
    parentActionId: ActionIdSchema.optional().meta({
      description: 'The runbook run this action is a step of.',
    }),
  })
  .meta({
    id: 'ActionListItem',
    description:
      'One action of a listing; GET /v1/actions/{actionId} has its results, plan, approval and timeline.',
  });
export type ActionListItem = z.infer<typeof ActionListItemSchema>;

export const ActionListSchema = z
  .object({
    actions: z.array(ActionListItemSchema).meta({ description: 'Newest first.' }),
    nextToken: z.string().optional().meta({
      description:
        'Present when more actions may follow: pass it back with the same filters. A page can hold fewer than `limit` actions (each request reads a bounded part of the index), and the last one can be empty.',
    }),
  })
  .meta({ id: 'ActionList', description: 'A page of actions (GET /v1/actions).' });
export type ActionList = z.infer<typeof ActionListSchema>;

/** A listed action as the API shows it: only the listed fields, copied one by one. */
export function toActionListItem(action: ListedAction): ActionListItem {
  return {
    actionId: action.actionId,
    action: action.action,
    status: action.status,
    target: action.target,
    reason: action.reason,
    ...(action.ticket === undefined ? {} : { ticket: action.ticket }),
    ...(action.requestedBy === undefined ? {} : { requestedBy: action.requestedBy }),
    dryRun: action.dryRun,
    createdAt: action.createdAt,
    updatedAt: action.updatedAt,
    ...(action.summary === undefined ? {} : { summary: action.summary }),
    ...(action.parentActionId === undefined ? {} : { parentActionId: action.parentActionId }),
  };
}
