import {
  demoFixture,
  loadFixture,
  type SimulatorFixture,
  SimulatorFixtureError,
} from './fixture.ts';
import { FLEET_MAX_SESSIONS, fleetFixture } from './fleet.ts';

/** The variable `npm run simulator` (and `npm start`) read the fixture choice from. */
export const FIXTURE_VARIABLE = 'CITRIX_SIMULATOR_FIXTURE';

const FLEET_SIZE = /^fleet:(.*)$/s;

const isNotFound = (error: unknown) =>
  error instanceof Error && (error as NodeJS.ErrnoException).code === 'ENOENT';

const choices = `demo, fleet, fleet:<sessions> (1 to ${FLEET_MAX_SESSIONS}) or the path of a fixture JSON file`;

/**
 * The fixture `CITRIX_SIMULATOR_FIXTURE` names: unset, empty or `demo` is the demo fixture;
 * `fleet` the fleet fixture with 1,000 sessions and `fleet:<n>` with n (1 to 10,000), their
 * times relative to `now`; anything else is the path of a fixture JSON file. A bad value throws a
 * SimulatorFixtureError whose message starts with the variable's name. Names are lower case: a
 * file called `fleet` is `./fleet`.
 */
export function fixtureFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  now: Date = new Date(),
): SimulatorFixture {
  const value = env[FIXTURE_VARIABLE]?.trim() ?? '';
  if (value === '' || value === 'demo') return demoFixture();
  if (value === 'fleet') return fleetFixture({ now });
  const size = FLEET_SIZE.exec(value)?.[1];
  if (size !== undefined) {
    const sessions = /^\d{1,5}$/.test(size) ? Number(size) : Number.NaN;
    if (!(sessions >= 1 && sessions <= FLEET_MAX_SESSIONS)) {
      throw new SimulatorFixtureError(
        `${FIXTURE_VARIABLE}="${value}": fleet:<sessions> needs a whole number of sessions from 1 to ${FLEET_MAX_SESSIONS}`,
      );
    }
    return fleetFixture({ sessions, now });
  }
  try {
    return loadFixture(value);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    // A path that does not exist may be a misspelt name: say what the variable takes.
    const missing = error instanceof Error && isNotFound(error.cause);
    throw new SimulatorFixtureError(
      `${FIXTURE_VARIABLE}="${value}": ${reason}${missing ? ` (it takes ${choices})` : ''}`,
      { cause: error },
    );
  }
}
