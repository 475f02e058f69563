import pLimit from 'p-limit';
import { unhandled } from '../actions/declaration.ts';
import { addressRange } from '../citrix/client-address.ts';
import type { CallContext, DaasSession, SessionSearchFilter } from '../citrix/daas-client.ts';
import { parseUserIdentifier, type UserIdentifier } from '../citrix/ids.ts';
import type { SessionFind } from './catalog.ts';
import { durationSeconds, parseStateChangeTime } from './state-change-time.ts';

/**
 * Fleet-scale session targets: a delivery group, a machine, a client address range, a list of
 * users, or what a sweep looks for. Each becomes one DaaS `$search` (or one per user), and every
 * result is re-checked here exactly, case-insensitively, before it can be acted on: Citrix search
 * can be fuzzy, and a CIDR range is searched by its widest text prefix.
 */

export interface SessionSearch {
  searchSessions(
    filters: readonly SessionSearchFilter[],
    context?: CallContext,
  ): Promise<DaasSession[]>;
  searchSessionsByUser(user: UserIdentifier, context?: CallContext): Promise<DaasSession[]>;
}

export type FleetTarget =
  | { readonly users: readonly string[] }
  | { readonly deliveryGroup: string }
  | { readonly machine: string }
  | { readonly clientAddress: string };

const same = (a: string | null | undefined, b: string) =>
  typeof a === 'string' && a.toLowerCase() === b.toLowerCase();

export function inDeliveryGroup(session: DaasSession, name: string): boolean {
  return same(session.Machine?.DeliveryGroup?.Name, name);
}

/** `DOMAIN\name` is the machine's `Name`; anything else its DNS name. */
export function onMachine(session: DaasSession, machine: string): boolean {
  return machine.includes('\\')
    ? same(session.Machine?.Name, machine)
    : same(session.Machine?.DnsName, machine);
}

export function fromClientAddress(session: DaasSession, range: string): boolean {
  const address = session.Client?.IPAddress;
  return typeof address === 'string' && addressRange(range).contains(address);
}

function machineFilter(machine: string): SessionSearchFilter {
  return machine.includes('\\')
    ? { Property: 'MachineName', Value: machine, Operator: 'Equals' }
    : { Property: 'DnsName', Value: machine, Operator: 'Equals' };
}

/** One address exactly; a range by its widest IPv4 text prefix (or unfiltered), then re-checked. */
function clientAddressFilters(range: string): SessionSearchFilter[] {
  if (!range.includes('/')) return [{ Property: 'ClientIP', Value: range, Operator: 'Equals' }];
  const prefix = addressRange(range).ipv4Prefix;
  return prefix === '' ? [] : [{ Property: 'ClientIP', Value: prefix, Operator: 'StartsWith' }];
}

/** Sessions found twice (a user listed under two names) are kept once. */
function unique(sessions: readonly DaasSession[]): DaasSession[] {
  const seen = new Set<string>();
  return sessions.filter((session) => {
    const id = session.Id.toLowerCase();
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

/** At most this many user searches run at once for a `users` target. */
const USER_SEARCH_CONCURRENCY = 8;

/** Every session a fleet target stands for, each re-checked against it. */
export async function findFleetSessions(
  search: SessionSearch,
  target: FleetTarget,
  context: CallContext,
): Promise<DaasSession[]> {
  if ('users' in target) {
    const found = await pLimit(USER_SEARCH_CONCURRENCY).map(target.users, (user) =>
      search.searchSessionsByUser(parseUserIdentifier(user), context),
    );
    return unique(found.flat());
  }
  if ('deliveryGroup' in target) {
    const found = await search.searchSessions(
      [{ Property: 'DeliveryGroup', Value: target.deliveryGroup, Operator: 'Equals' }],
      context,
    );
    return found.filter((session) => inDeliveryGroup(session, target.deliveryGroup));
  }
  if ('machine' in target) {
    const found = await search.searchSessions([machineFilter(target.machine)], context);
    return found.filter((session) => onMachine(session, target.machine));
  }
  if ('clientAddress' in target) {
    const found = await search.searchSessions(clientAddressFilters(target.clientAddress), context);
    return found.filter((session) => fromClientAddress(session, target.clientAddress));
  }
  return unhandled(target);
}

/** A session a sweep found: matched, or found but not to be acted on (and why). */
export interface SweepFinding {
  readonly session: DaasSession;
  /** Why the sweep must leave it alone, e.g. a `StateChangeTime` that cannot be read. */
  readonly skipReason?: string;
}

/**
 * What a sweep's `find.sessions` selects: sessions in `state`, limited to the delivery groups,
 * machines and client ranges given (any of each list), in that state for longer than
 * `olderThan` by their `StateChangeTime`. A session whose time cannot be read is returned with a
 * skip reason: it is shown in the plan, never acted on.
 */
export async function findSweepSessions(
  search: SessionSearch,
  find: SessionFind,
  now: Date,
  context: CallContext,
): Promise<SweepFinding[]> {
  const filters: SessionSearchFilter[] =
    find.state === undefined
      ? []
      : [{ Property: 'SessionState', Value: find.state, Operator: 'Equals' }];
  // One search narrowed by the most selective single value, if any; the rest is checked here.
  const [onlyGroup] = find.deliveryGroups?.length === 1 ? find.deliveryGroups : [];
  if (onlyGroup !== undefined) {
    filters.push({ Property: 'DeliveryGroup', Value: onlyGroup, Operator: 'Equals' });
  }
  const sessions = await search.searchSessions(filters, context);
  const minimumAgeMs =
    find.olderThan === undefined ? undefined : (durationSeconds(find.olderThan) ?? 0) * 1000;
  const findings: SweepFinding[] = [];
  for (const session of sessions) {
    if (find.state !== undefined && !same(session.State, find.state)) continue;
    if (
      find.deliveryGroups &&
      !find.deliveryGroups.some((group) => inDeliveryGroup(session, group))
    ) {
      continue;
    }
    if (find.machines && !find.machines.some((machine) => onMachine(session, machine))) continue;
    if (
      find.clientAddresses &&
      !find.clientAddresses.some((range) => fromClientAddress(session, range))
    ) {
      continue;
    }
    if (minimumAgeMs === undefined) {
      findings.push({ session });
      continue;
    }
    const changedAt = parseStateChangeTime(session.StateChangeTime);
    if (changedAt === undefined) {
      findings.push({
        session,
        skipReason: `its StateChangeTime (${JSON.stringify(session.StateChangeTime ?? null).slice(0, 40)}) cannot be read, so its age is unknown`,
      });
    } else if (now.getTime() - changedAt > minimumAgeMs) {
      findings.push({ session });
    }
  }
  return findings;
}
