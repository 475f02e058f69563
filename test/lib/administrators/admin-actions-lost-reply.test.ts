import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ResolvedAdministrator } from '../../../lib/actions/schema.ts';
import {
  type AdministratorChangeLock,
  AdministratorChangeNotAppliedError,
  type AdministratorGuards,
  applyAdministratorChange,
  buildAdministratorResult,
  readAdministratorBack,
  resolveAdministratorTargets,
} from '../../../lib/administrators/admin-actions.ts';
import { type RunningSimulator, startCitrixSimulator } from '../../../local/simulator/server.ts';
import { rejection } from '../../support/rejection.ts';
import { MemoryRevokeSnapshots } from '../../support/revoke-snapshots.ts';
import { ADMINS, administratorsClientFor, testFixture } from '../../support/simulator-fixture.ts';

/**
 * The real administrators client against the simulator, through a network that loses the reply
 * to the first DELETE after the simulator has acted on it. The client retries the DELETE, which
 * then finds nothing: the change must still count as made.
 */
let simulator: RunningSimulator;
let dropNextDeleteReply = false;
/**
 * Set to have the invitee accept the invitation just before the DELETE arrives (the simulator
 * has no acceptance): Citrix deletes nothing and answers false, and lists an active user since.
 */
let inviteeAccepts = false;
let accepted = false;
const GUARDS: AdministratorGuards = { apiClientOwner: ADMINS.owner.email, protected: [] };
const NOW = new Date('2026-11-23T03:00:00Z');
const NO_CONTENTION: AdministratorChangeLock = {
  acquire: async () => ({ release: async () => {} }),
};

beforeAll(async () => {
  simulator = await startCitrixSimulator({ fixture: testFixture() });
});
afterAll(async () => simulator.close());
beforeEach(() => {
  simulator.reset();
  dropNextDeleteReply = true;
  inviteeAccepts = false;
  accepted = false;
});

const ACCEPTED = { pending: false, userId: '1000000000000000099', accessType: 'Full' };

/** A `GET /administrators` page as Citrix lists it once the invitee has accepted. */
async function afterAcceptance(response: Response): Promise<Response> {
  const page = (await response.json()) as { items: { ucOid: string }[] };
  const items = page.items.map((admin) =>
    admin.ucOid === ADMINS.invitee.ucOid ? { ...admin, ...ACCEPTED } : admin,
  );
  return Response.json({ ...page, items }, { status: response.status });
}

const lossyFetch: typeof fetch = async (input, init) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  if (inviteeAccepts && url.pathname === '/administrators/invitations') {
    accepted = true;
    return Response.json(false);
  }
  const response = await fetch(input, init);
  if (accepted && init?.method === 'GET' && url.pathname === '/administrators') {
    return afterAcceptance(response);
  }
  if (init?.method === 'DELETE' && dropNextDeleteReply) {
    dropNextDeleteReply = false;
    await response.arrayBuffer();
    throw new TypeError('fetch failed');
  }
  return response;
};

const client = () => administratorsClientFor(simulator.url, { fetch: lossyFetch });

const deletes = () =>
  simulator
    .requests()
    .filter((request) => request.method === 'DELETE')
    .map((request) => `${request.status}`);

async function revoke(
  action: 'admin.revoke' | 'admin.deleteInvitation',
  target: { admin: string } | { email: string },
) {
  const administrators = client();
  const [resolved] = await resolveAdministratorTargets(
    administrators,
    action,
    target,
    GUARDS,
    new MemoryRevokeSnapshots(),
  );
  const admin = resolved as ResolvedAdministrator;
  const change = await applyAdministratorChange(
    administrators,
    action,
    admin,
    { mode: 'delete' },
    GUARDS,
    () => NOW,
    {
      lock: NO_CONTENTION,
      owner: 'act_1 target',
      actionId: 'act_1',
      revokes: new MemoryRevokeSnapshots(),
    },
  );
  const after = await readAdministratorBack(administrators, admin, change);
  return { change, result: buildAdministratorResult(admin, { change, after }, NOW) };
}

describe('a DELETE whose reply was lost', () => {
  it('records the administrator as deleted when the retried DELETE answers 404', async () => {
    const { change, result } = await revoke('admin.revoke', { admin: ADMINS.trent.email });

    expect(deletes()).toEqual(['200', '404']);
    expect(change).toEqual({ mode: 'delete', at: NOW.toISOString(), alreadyGone: true });
    expect(result).toMatchObject({
      outcome: 'succeeded',
      after: { present: false },
      note: expect.stringMatching(/Already gone/),
    });
    expect(
      simulator
        .state()
        .cloudAdministrators?.administrators?.some((admin) => admin.ucOid === ADMINS.trent.ucOid),
    ).toBe(false);
  });

  it('records the invitation as deleted when the retried DELETE answers false', async () => {
    const { change, result } = await revoke('admin.deleteInvitation', {
      email: ADMINS.invitee.email,
    });

    expect(deletes()).toEqual(['200', '200']);
    expect(change).toEqual({
      mode: 'deleteInvitation',
      at: NOW.toISOString(),
      alreadyGone: true,
    });
    expect(result).toMatchObject({ outcome: 'succeeded', after: { present: false } });
  });
});

describe('an invitation accepted just before its DELETE', () => {
  it('is not recorded as deleted: the change fails and says to revoke the administrator', async () => {
    dropNextDeleteReply = false;
    const administrators = client();
    const [resolved] = await resolveAdministratorTargets(
      administrators,
      'admin.deleteInvitation',
      { email: ADMINS.invitee.email },
      GUARDS,
      new MemoryRevokeSnapshots(),
    );
    const invitee = resolved as ResolvedAdministrator;
    expect(invitee).toMatchObject({ pending: true, allowed: true });
    inviteeAccepts = true;

    const error = await rejection(
      applyAdministratorChange(
        administrators,
        'admin.deleteInvitation',
        invitee,
        { mode: 'delete' },
        GUARDS,
        () => NOW,
        {
          lock: NO_CONTENTION,
          owner: 'act_1 target',
          actionId: 'act_1',
          revokes: new MemoryRevokeSnapshots(),
        },
      ),
    );
    expect(error).toBeInstanceOf(AdministratorChangeNotAppliedError);
    expect(error.message).toMatch(/accepted/);
    expect(error.message).toMatch(/Full access/);
    expect(error.message).toMatch(/admin\.revoke/);
    const caught = { Error: error.name, Cause: error.message };
    const result = buildAdministratorResult(invitee, { error: caught }, NOW);
    expect(result).toMatchObject({
      outcome: 'failed',
      error: { name: 'AdministratorChangeNotAppliedError' },
    });
    expect(result).not.toHaveProperty('change');

    // Reading back after a change that claimed success says the same.
    const readBack = await rejection(
      readAdministratorBack(administrators, invitee, {
        mode: 'deleteInvitation',
        at: NOW.toISOString(),
        alreadyGone: true,
      }),
    );
    expect(readBack).toBeInstanceOf(AdministratorChangeNotAppliedError);
    expect(readBack.message).toMatch(/admin\.revoke/);
  });
});
