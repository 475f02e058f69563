import { createHash } from 'node:crypto';
import * as z from 'zod';
import { describeZodError, type FixtureSession } from './fixture.ts';

/**
 * `POST /cvad/manage/Sessions/$search`: the filter properties and operators the simulator
 * understands, and paging with an opaque continuation token. Anything else is rejected with 400
 * rather than ignored, because silently widening a search could act on the wrong sessions.
 */

type FieldReader = (session: FixtureSession) => (string | null | undefined)[];

const userName: FieldReader = (s) => [s.User.Name, s.UntrustedUserName];

// Keys are lower case: Citrix parses enum names case-insensitively.
const PROPERTIES: Record<string, FieldReader> = {
  userprincipalname: (s) => [s.User.PrincipalName],
  currentuser: userName,
  username: userName,
  userdisplayname: (s) => [s.User.DisplayName],
  sessionstate: (s) => [s.State],
  machinename: (s) => [s.Machine.Name],
  dnsname: (s) => [s.Machine.DnsName],
  deliverygroup: (s) => [s.Machine.DeliveryGroup?.Name],
  clientname: (s) => [s.Client?.Name],
  clientip: (s) => [s.Client?.IPAddress],
};

export const SUPPORTED_SEARCH_PROPERTIES = [
  'UserPrincipalName',
  'CurrentUser',
  'UserName',
  'UserDisplayName',
  'SessionState',
  'MachineName',
  'DnsName',
  'DeliveryGroup',
  'ClientName',
  'ClientIP',
] as const;

/** Compiles a lower-cased filter value into a test of a lower-cased field, once per search. */
type Matcher = (value: string) => (field: string) => boolean;

function likePattern(value: string): RegExp {
  const escaped = value.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('.*')}$`, 's');
}

const like: Matcher = (v) => {
  const pattern = likePattern(v);
  return (f) => pattern.test(f);
};

// Comparisons are on lower-cased strings. Negated operators match when no field matches.
const OPERATORS: Record<string, { negated: boolean; match: Matcher }> = {
  equals: { negated: false, match: (v) => (f) => f === v },
  notequals: { negated: true, match: (v) => (f) => f === v },
  contains: { negated: false, match: (v) => (f) => f.includes(v) },
  notcontains: { negated: true, match: (v) => (f) => f.includes(v) },
  startswith: { negated: false, match: (v) => (f) => f.startsWith(v) },
  endswith: { negated: false, match: (v) => (f) => f.endsWith(v) },
  like: { negated: false, match: like },
  notlike: { negated: true, match: like },
};

export const SUPPORTED_SEARCH_OPERATORS = [
  'Equals',
  'NotEquals',
  'Contains',
  'NotContains',
  'StartsWith',
  'EndsWith',
  'Like',
  'NotLike',
] as const;

const SearchFilterSchema = z.looseObject({
  Property: z.string(),
  Value: z.string(),
  Operator: z.string(),
});

const isEmpty = (value: unknown) =>
  value === undefined ||
  value === null ||
  value === '' ||
  (Array.isArray(value) && value.length === 0);

export const SessionSearchRequestSchema = z
  .looseObject({
    SearchFilters: z.array(SearchFilterSchema).nullable().optional(),
    BasicSearchString: z.string().nullable().optional(),
    SearchFilterGroups: z.array(z.unknown()).nullable().optional(),
  })
  .superRefine((request, ctx) => {
    for (const field of ['BasicSearchString', 'SearchFilterGroups'] as const) {
      if (!isEmpty(request[field])) {
        ctx.addIssue({
          code: 'custom',
          path: [field],
          message: 'is not supported by the Citrix simulator; use SearchFilters',
        });
      }
    }
    (request.SearchFilters ?? []).forEach((filter, index) => {
      if (!(filter.Property.toLowerCase() in PROPERTIES)) {
        ctx.addIssue({
          code: 'custom',
          path: ['SearchFilters', index, 'Property'],
          message: `unknown or unsupported property "${filter.Property}" (supported: ${SUPPORTED_SEARCH_PROPERTIES.join(', ')})`,
        });
      }
      if (!(filter.Operator.toLowerCase() in OPERATORS)) {
        ctx.addIssue({
          code: 'custom',
          path: ['SearchFilters', index, 'Operator'],
          message: `unknown or unsupported operator "${filter.Operator}" (supported: ${SUPPORTED_SEARCH_OPERATORS.join(', ')})`,
        });
      }
    });
  });

export type SearchFilter = z.infer<typeof SearchFilterSchema>;

export type ParsedSearch = { ok: true; filters: SearchFilter[] } | { ok: false; detail: string };

export function parseSessionSearch(body: unknown): ParsedSearch {
  const result = SessionSearchRequestSchema.safeParse(body);
  if (!result.success) return { ok: false, detail: describeZodError(result.error) };
  return { ok: true, filters: result.data.SearchFilters ?? [] };
}

type SessionTest = (session: FixtureSession) => boolean;

/** A filter as a test of one session; values are lower-cased and patterns compiled once. */
function compileFilter(filter: SearchFilter): SessionTest {
  const read = PROPERTIES[filter.Property.toLowerCase()];
  const operator = OPERATORS[filter.Operator.toLowerCase()];
  if (!read || !operator) return () => false;
  const test = operator.match(filter.Value.toLowerCase());
  return (session) => {
    const anyMatch = read(session).some(
      (field) => typeof field === 'string' && test(field.toLowerCase()),
    );
    return operator.negated ? !anyMatch : anyMatch;
  };
}

/** Filters are ANDed; no filters selects every session. One pass, linear in the sessions. */
export function filterSessions(sessions: FixtureSession[], filters: SearchFilter[]) {
  const tests = filters.map(compileFilter);
  return sessions.filter((session) => tests.every((test) => test(session)));
}

export const DEFAULT_PAGE_LIMIT = 250;
export const MAX_PAGE_LIMIT = 1000;

export function parseLimit(raw: string | undefined): number | undefined {
  if (raw === undefined) return DEFAULT_PAGE_LIMIT;
  if (!/^\d+$/.test(raw)) return undefined;
  const limit = Number(raw);
  return limit >= 1 && limit <= MAX_PAGE_LIMIT ? limit : undefined;
}

/** Ties a continuation token to the search it came from, so a changed search is caught. */
function fingerprint(filters: SearchFilter[]): string {
  const normalized = filters.map((f) =>
    [f.Property, f.Operator, f.Value].map((s) => s.toLowerCase()),
  );
  return createHash('sha256').update(JSON.stringify(normalized)).digest('base64url').slice(0, 16);
}

export function encodeContinuationToken(offset: number, filters: SearchFilter[]): string {
  return Buffer.from(JSON.stringify({ o: offset, f: fingerprint(filters) })).toString('base64url');
}

/** The offset a token points at, or undefined when it is malformed or from another search. */
export function decodeContinuationToken(
  token: string,
  filters: SearchFilter[],
): number | undefined {
  try {
    const decoded: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    const parsed = z.strictObject({ o: z.int().nonnegative(), f: z.string() }).safeParse(decoded);
    if (!parsed.success || parsed.data.f !== fingerprint(filters)) return undefined;
    return parsed.data.o;
  } catch {
    return undefined;
  }
}

export interface Page<T> {
  Items: T[];
  ContinuationToken: string | null;
}

export function paginate<T>(items: T[], offset: number, limit: number, filters: SearchFilter[]) {
  const next = offset + limit;
  const page: Page<T> = {
    Items: items.slice(offset, next),
    ContinuationToken: next < items.length ? encodeContinuationToken(next, filters) : null,
  };
  return page;
}
