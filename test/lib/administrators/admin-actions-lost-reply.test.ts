import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CaughtError } from '../../../lib/actions/outcome.ts';
import type { AdminActionType, ResolvedAdministrator } from '../../../lib/actions/schema.ts';
import {
  type AdministratorChangeLock,
  AdministratorChangeNotAppliedError,
  type AdministratorGuards,
  type AdminReadBack,
  applyAdministratorChange,
  buildAdministratorResult,
  readAdministratorBack,
  recordStripSnapshot,
  resolveAdministratorTargets,
  strippedAccess,
  UNCONFIRMED_CHANGE_ERROR,
  UNCONFIRMED_CHANGE_OUTCOME,
} from '../../../lib/administrators/admin-actions.ts';
import type { AdministratorAccess } from '../../../lib/citrix/administrators-client.ts';
import { type RunningSimulator, startCitrixSimulator } from '../../../local/simulator/server.ts';
import { rejection } from '../../support/rejection.ts';
import { MemoryRevokeSnapshots } from '../../support/revoke-snapshots.ts';
import { ADMINS, administratorsClientFor, testFixture } from '../../support/simulator-fixture.ts';

/**
 * The real administrators client against the simulator, through a network that loses the answer
 * to the first change (PUT or DELETE): after the simulator applied it, or before it arrived. The
 * change is never sent again; the read-back decides whether it is confirmed.
 */
let simulator: RunningSimulator;
/** What happens to the next change request: its answer is lost after it applied, or it never arrives. */
let nextChange: 'answerLost' | 'neverArrives' | 'delivered' = 'delivered';
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
  nextChange = 'answerLost';
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
  const isChange = init?.method === 'DELETE' || init?.method === 'PUT';
  if (isChange && nextChange === 'neverArrives') {
    nextChange = 'delivered';
    throw new TypeError('fetch failed');
  }
  const response = await fetch(input, init);
  if (accepted && init?.method === 'GET' && url.pathname === '/administrators') {
    return afterAcceptance(response);
  }
  if (isChange && nextChange === 'answerLost') {
    nextChange = 'delivered';
    await response.arrayBuffer();
    throw new TypeError('fetch failed');
  }
  return response;
};

const client = () => administratorsClientFor(simulator.url, { fetch: lossyFetch });

/** The changes the simulator received, as `METHOD status`. */
const changes = () =>
  simulator
    .requests()
    .filter((request) => request.method === 'DELETE' || request.method === 'PUT')
    .map((request) => `${request.method} ${request.status}`);

const caught = (error: Error): CaughtError => ({ Error: error.name, Cause: error.message });

/** Resolves, applies, reads back and records one target as the admin workflow's steps do. */
async function runChange(
  action: AdminActionType,
  target: { admin: string } | { email: string },
  mode: 'strip' | 'delete',
) {
  const administrators = client();
  const revokes = new MemoryRevokeSnapshots();
  const [resolved] = await resolveAdministratorTargets(
    administrators,
    action,
    target,
    GUARDS,
    revokes,
  );
  const admin = resolved as ResolvedAdministrator;
  const change = await applyAdministratorChange(
    administrators,
    action,
    admin,
    { mode },
    GUARDS,
    () => NOW,
    { lock: NO_CONTENTION, owner: 'act_1 target', actionId: 'act_1', revokes },
  );
  let after: AdminReadBack | undefined;
  let readBackError: CaughtError | undefined;
  try {
    after = await readAdministratorBack(administrators, admin, change);
  } catch (error) {
    readBackError = caught(error as Error);
  }
  const progress = { change, after, readBackError };
  const built = buildAdministratorResult(admin, progress, NOW);
  const revokeId = `act_${'2'.repeat(32)}`;
  const result = await recordStripSnapshot(revokes, revokeId, built, progress);
  return { admin, change, result, revokes };
}

describe('a change whose answer was lost after Citrix applied it', () => {
  it('sends the DELETE of an administrator once and records it confirmed by the read-back', async () => {
    const { change, result } = await runChange(
      'admin.revoke',
      { admin: ADMINS.trent.email },
      'delete',
    );

    expect(changes()).toEqual(['DELETE 200']);
    expect(change).toEqual({
      mode: 'delete',
      at: NOW.toISOString(),
      unanswered: expect.stringMatching(
        /^Citrix Cloud did not answer DELETE \/administrators\/\d+ \(CitrixTimeoutError: .*\); the change may have been applied$/,
      ),
    });
    expect(result).toMatchObject({
      outcome: 'succeeded',
      change: { mode: 'delete', at: NOW.toISOString() },
      after: { present: false },
      note: expect.stringMatching(
        /^Confirmed by reading the administrator back: it is no longer listed, though Citrix Cloud did not answer DELETE/,
      ),
    });
    expect(result.change).not.toHaveProperty('unanswered');
    expect(
      simulator
        .state()
        .cloudAdministrators?.administrators?.some((admin) => admin.ucOid === ADMINS.trent.ucOid),
    ).toBe(false);
  });

  it('sends the DELETE of an invitation once and records it confirmed by the read-back', async () => {
    const { change, result } = await runChange(
      'admin.deleteInvitation',
      { email: ADMINS.invitee.email },
      'strip',
    );

    expect(changes()).toEqual(['DELETE 200']);
    expect(change).toMatchObject({ mode: 'deleteInvitation', unanswered: expect.any(String) });
    expect(result).toMatchObject({
      outcome: 'succeeded',
      after: { present: false },
      note: expect.stringMatching(
        /^Confirmed by reading the administrator back: the invitation is no longer listed/,
      ),
    });
  });

  it('sends the strip once, confirms it, and records the snapshot admin.restore needs', async () => {
    const { admin, change, result, revokes } = await runChange(
      'admin.revoke',
      { admin: ADMINS.mallory.email },
      'strip',
    );

    expect(changes()).toEqual(['PUT 200']);
    expect(change).toMatchObject({ mode: 'strip', replaced: admin.before });
    expect(change.unanswered).toMatch(/did not answer PUT \/administrators\/access/);
    expect(result).toMatchObject({
      outcome: 'succeeded',
      after: { present: true, accessType: 'Custom' },
      note: expect.stringMatching(
        /^Confirmed by reading the administrator back: it has Custom access/,
      ),
    });
    // The access it replaced was read before the PUT, so the strip can be undone as usual.
    expect(admin.before).toBeDefined();
    expect(await revokes.latest(ADMINS.mallory.ucOid)).toMatchObject({
      replaced: admin.before,
      left: strippedAccess(admin.before as AdministratorAccess),
    });
  });
});

describe('a change that never reached Citrix and got no answer', () => {
  it('is sent once and recorded unconfirmed, saying to check before sending it again', async () => {
    nextChange = 'neverArrives';
    const { change, result, revokes } = await runChange(
      'admin.revoke',
      { admin: ADMINS.trent.email },
      'delete',
    );

    // Nothing arrived, and nothing was sent again.
    expect(changes()).toEqual([]);
    expect(change.unanswered).toMatch(/did not answer DELETE/);
    expect(result).toMatchObject({
      outcome: UNCONFIRMED_CHANGE_OUTCOME,
      error: { name: UNCONFIRMED_CHANGE_ERROR },
    });
    expect(result.error?.message).toMatch(
      /^Sent, not confirmed: Citrix Cloud did not answer DELETE \/administrators\/\d+ .*; reading the administrator back does not show it \(.*still listed\)\. It was not sent again: check trent@example\.com in Citrix Cloud before making the change again$/,
    );
    expect(await revokes.latest(ADMINS.trent.ucOid)).toBeUndefined();
  });

  it('records a strip unconfirmed and keeps no snapshot of it', async () => {
    nextChange = 'neverArrives';
    const { result, revokes } = await runChange(
      'admin.revoke',
      { admin: ADMINS.mallory.email },
      'strip',
    );
    expect(changes()).toEqual([]);
    expect(result).toMatchObject({ outcome: 'unconfirmed', replaced: expect.any(Object) });
    expect(await revokes.latest(ADMINS.mallory.ucOid)).toBeUndefined();
  });
});

describe('an invitation accepted just before its DELETE', () => {
  it('is not recorded as deleted: the change fails and says to revoke the administrator', async () => {
    nextChange = 'delivered';
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
    const result = buildAdministratorResult(invitee, { error: caught(error) }, NOW);
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
