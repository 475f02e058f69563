/**
 * Standalone Citrix Cloud simulator: `npm run simulator`.
 * CITRIX_SIMULATOR_PORT (default 3001) and CITRIX_SIMULATOR_FIXTURE (`demo`, the default;
 * `fleet`, `fleet:<sessions>`; or a fixture JSON path). Listens on 127.0.0.1 only.
 */

import { ADMINISTRATORS_BASE_PATH } from './administrators.ts';
import { ENDPOINT_MANAGEMENT_BASE_PATH } from './endpoint-management.ts';
import { SESSION_STATES, type SimulatorFixture } from './fixture.ts';
import { FIXTURE_VARIABLE, fixtureFromEnv } from './named-fixtures.ts';
import { startCitrixSimulator } from './server.ts';

const DEFAULT_PORT = 3001;

function portFromEnv(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') return DEFAULT_PORT;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`CITRIX_SIMULATOR_PORT must be a port number (0-65535), got "${raw}"`);
  }
  return port;
}

/** Above this many sessions the banner counts them instead of listing them. */
const LISTED_SESSIONS = 100;

/** A fleet's sessions counted by delivery group and state: one line per group. */
function summarizeSessions(fixture: SimulatorFixture): string[] {
  const byGroup = new Map<string, Map<string, number>>();
  for (const session of fixture.sessions) {
    const group = session.Machine.DeliveryGroup?.Name ?? '(no delivery group)';
    const states = byGroup.get(group) ?? new Map<string, number>();
    states.set(session.State, (states.get(session.State) ?? 0) + 1);
    byGroup.set(group, states);
  }
  const users = new Set(fixture.sessions.map((s) => s.User.PrincipalName ?? s.User.Name));
  return [
    `  ${fixture.sessions.length} sessions of ${users.size} users (GET /_simulator/state lists them)`,
    ...[...byGroup].map(
      ([group, states]) =>
        `  ${group}: ${SESSION_STATES.filter((state) => states.has(state))
          .map((state) => `${states.get(state)} ${state}`)
          .join(', ')}`,
    ),
  ];
}

/** What the simulator holds, grouped by user, so people know what to search for. */
function describeSessions(fixture: SimulatorFixture): string[] {
  if (fixture.sessions.length > LISTED_SESSIONS) return summarizeSessions(fixture);
  const byUser = new Map<string, SimulatorFixture['sessions']>();
  for (const session of fixture.sessions) {
    const user = session.User.PrincipalName ?? session.User.Name ?? '(unknown user)';
    const sessions = byUser.get(user);
    if (sessions) sessions.push(session);
    else byUser.set(user, [session]);
  }
  const lines: string[] = [];
  for (const [user, sessions] of byUser) {
    const name = sessions[0]?.User.Name ?? '';
    lines.push(`  ${user} (${name}): ${sessions.length} session(s)`);
    for (const s of sessions) {
      const logoff = s.simulation?.logoff ?? 'complete';
      lines.push(
        `    ${s.Id}  ${s.State.padEnd(12)} ${s.SessionType.padEnd(11)} ${s.Machine.Name}  log off: ${logoff}`,
      );
    }
  }
  return lines;
}

/** Endpoint Management administrators and devices, grouped by user. */
function describeEndpointManagement(fixture: SimulatorFixture, url: string): string[] {
  const em = fixture.endpointManagement;
  if (!em) return [];
  const byUser = new Map<string, NonNullable<typeof em.devices>>();
  for (const device of em.devices ?? []) {
    byUser.set(device.userName, [...(byUser.get(device.userName) ?? []), device]);
  }
  const lines = [
    `Endpoint Management: ${url}${ENDPOINT_MANAGEMENT_BASE_PATH} (body shape ${em.bodyShape ?? 'object'})`,
    ...(em.administrators ?? []).map(
      (admin) => `  administrator: login ${admin.login}  password ${admin.password}`,
    ),
  ];
  for (const [user, devices] of byUser) {
    lines.push(`  ${user}: ${devices.length} device(s)`);
    for (const d of devices) {
      const notes = [
        d.managed === false ? 'not managed' : 'managed',
        ...(d.jailbroken ? ['jailbroken'] : []),
        ...(d.compliant === false ? ['not compliant'] : []),
        ...(d.simulation?.commandFailure ? [`commands fail: ${d.simulation.commandFailure}`] : []),
      ];
      lines.push(
        `    ${d.id}  ${d.platform.padEnd(7)} ${d.deviceModel ?? ''}  ${notes.join(', ')}`,
      );
    }
  }
  return lines;
}

/** Citrix Cloud administrators, with the API clients each one owns. */
function describeCloudAdministrators(fixture: SimulatorFixture, url: string): string[] {
  const admins = fixture.cloudAdministrators?.administrators;
  if (!admins) return [];
  const lines = [`Cloud administrators: ${url}${ADMINISTRATORS_BASE_PATH}`];
  for (const admin of admins) {
    const who = admin.email ?? `${admin.displayName ?? '(no name)'} (group)`;
    const email = admin.email?.toLowerCase();
    const owned = fixture.clients
      .filter((client) => email && client.ownerAdministrator?.toLowerCase() === email)
      .map((client) => client.clientId);
    const notes = [
      admin.providerType,
      ...(admin.pending ? [`pending invitation since ${admin.createdDate.slice(0, 10)}`] : []),
      ...(owned.length > 0 ? [`owns API client ${owned.join(', ')}`] : []),
    ];
    lines.push(
      `  ${who.padEnd(32)} ${admin.accessType.padEnd(7)} ${admin.userId ?? admin.ucOid}  ${notes.join(', ')}`,
    );
  }
  return lines;
}

async function main(): Promise<void> {
  const fixtureName = process.env[FIXTURE_VARIABLE]?.trim() || 'demo';
  const fixture = fixtureFromEnv(process.env);
  const simulator = await startCitrixSimulator({
    fixture,
    port: portFromEnv(process.env.CITRIX_SIMULATOR_PORT),
    log: (line) => console.log(line),
  });

  const lines = [
    `Citrix simulator listening on ${simulator.url}`,
    `  fixture: ${fixtureName}`,
    `  customer id: ${fixture.customerId}`,
    `  site ids: ${fixture.sites.map((site) => `${site.id} (${site.name})`).join(', ')}`,
    // Simulator credentials are fake, so printing them is fine and saves a trip to the fixture.
    ...fixture.clients.map(
      (client) => `  API client: id ${client.clientId}  secret ${client.clientSecret}`,
    ),
    `  token URL: ${simulator.url}/cctrustoauth2/${fixture.customerId}/tokens/clients`,
    `  control API: ${simulator.url}/_simulator/state | /requests | /reset | /faults | /endpoint-management/body-shape`,
    'Users and sessions:',
    ...describeSessions(fixture),
    ...describeEndpointManagement(fixture, simulator.url),
    ...describeCloudAdministrators(fixture, simulator.url),
  ];
  const shutdown = (signal: string) => {
    console.log(`${signal} received, stopping the Citrix simulator`);
    simulator.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('Failed to stop the Citrix simulator cleanly', error);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  // Printed last: whoever reads this may stop the simulator at once, and the handlers are ready.
  console.log(lines.join('\n'));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
