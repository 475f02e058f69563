import { describe, expect, it } from 'vitest';
import { signStandardWebhook } from '../../lib/webhooks/standard-webhooks.ts';
import { LOCAL_DEMO_PEOPLE } from '../../local/defaults.ts';
import { LOCAL_ACCOUNT_ID, localPeopleFromEnv } from '../../local/people.ts';
import { sigV4Fetch, useLocalStack } from '../support/local-stack.ts';
import { TEST_SIGNING_SECRET } from '../support/signed-request.ts';
import { DEVICES } from '../support/simulator-fixture.ts';

/**
 * People act and approve as themselves on `npm start`: each is a `LOCAL_PEOPLE` entry who signs
 * with SigV4, as they would against API Gateway's IAM authorization. Approval means a second
 * authenticated person: never the requester under any spelling, never the shared webhook secret.
 */
const SOC_LEAD = {
  accessKeyId: 'SOCLEADTEST000000001',
  secretAccessKey: 'soc-lead-test-secret-access-key',
};
const ON_CALL = {
  accessKeyId: 'ONCALLTEST0000000002',
  secretAccessKey: 'on-call-test-secret-access-key',
};

describe('LOCAL_PEOPLE', () => {
  const people = (value: unknown) =>
    localPeopleFromEnv({ LOCAL_PEOPLE: JSON.stringify(value) }, true);

  it('normalizes names (NFKC, case-folded) and stands each person for an IAM user', () => {
    const [lead] = people({ 'Soc.Lead@Example.com': SOC_LEAD }).people;
    expect(lead).toMatchObject({
      name: 'soc.lead@example.com',
      accessKeyId: SOC_LEAD.accessKeyId,
      userArn: `arn:aws:iam::${LOCAL_ACCOUNT_ID}:user/soc.lead@example.com`,
      uniqueId: expect.stringMatching(/^AIDA[A-Z0-9]{17}$/),
    });
  });

  it('is the demo pair when unset, on the simulator only', () => {
    expect(localPeopleFromEnv({}, true).people.map((person) => person.name)).toEqual(
      Object.keys(LOCAL_DEMO_PEOPLE),
    );
    expect(() => localPeopleFromEnv({}, false)).toThrow(/LOCAL_PEOPLE is required/);
  });

  it.each([
    [
      'a name with a zero-width space',
      { 'soc.lead@exam\u200bple.com': SOC_LEAD },
      'LOCAL_PEOPLE is invalid: "soc.lead@exam\u200bple.com": name A name must not contain invisible or control characters (U+200B)',
    ],
    [
      'a name that looks like another (a Cyrillic е)',
      { 'Soc.Lead@Example.com': SOC_LEAD, 'soc.l\u0435ad@example.com': ON_CALL },
      'LOCAL_PEOPLE is invalid: "soc.l\u0435ad@example.com": looks like "Soc.Lead@Example.com": two people must be told apart by name',
    ],
    [
      'one name twice, in another case',
      { 'Soc.Lead@Example.com': SOC_LEAD, 'soc.lead@example.com': ON_CALL },
      'LOCAL_PEOPLE is invalid: "soc.lead@example.com": is the same name as "Soc.Lead@Example.com"',
    ],
    [
      'one access key for two people',
      { 'soc.lead@example.com': SOC_LEAD, 'it.oncall@example.com': SOC_LEAD },
      `LOCAL_PEOPLE is invalid: "it.oncall@example.com".accessKeyId: is also "soc.lead@example.com"'s: each person signs with their own key`,
    ],
    [
      'a short secret and a malformed key',
      { 'soc.lead@example.com': { accessKeyId: 'short', secretAccessKey: 'short' } },
      'LOCAL_PEOPLE is invalid: "soc.lead@example.com".accessKeyId: must be 16-128 of A-Z and 0-9, as AWS access key ids are; "soc.lead@example.com".secretAccessKey: must be at least 16 characters',
    ],
    ['nobody', {}, 'LOCAL_PEOPLE is invalid: names nobody'],
    ['a list', [SOC_LEAD], 'LOCAL_PEOPLE is invalid: must be a JSON object of people'],
    [
      'a slash in a name',
      { 'soc/lead': SOC_LEAD },
      'LOCAL_PEOPLE is invalid: "soc/lead": name must not contain "/"',
    ],
  ])('refuses %s, naming the person and the field, never a key', (_, value, message) => {
    let error: unknown;
    try {
      people(value);
    } catch (caught) {
      error = caught;
    }
    expect((error as Error).message).toBe(message);
    expect((error as Error).message).not.toContain(SOC_LEAD.secretAccessKey);
  });
});

describe('approval on the local stack, by people who sign as themselves', () => {
  const local = useLocalStack({
    reason: 'identity test',
    env: {
      LOCAL_PEOPLE: JSON.stringify({
        'Soc.Lead@Example.com': SOC_LEAD,
        'it.oncall@example.com': ON_CALL,
      }),
      APPROVAL_REQUIRED: 'device.wipe',
      APPROVAL_TIMEOUT_SECONDS: '30',
    },
  });
  const as = (credentials: typeof SOC_LEAD, path: string, body = '') =>
    sigV4Fetch(`${local.stack.apiUrl}${path}`, { body, credentials });
  const wipes = () => local.calls((request) => request.path.endsWith('/device/wipe'));

  /** soc.lead asks for a full wipe of bob's phone, held for approval; its id. */
  async function heldWipe(): Promise<string> {
    const response = await as(
      SOC_LEAD,
      '/v1/actions',
      JSON.stringify({
        action: 'device.wipe',
        target: { deviceId: DEVICES.bobPhone },
        reason: 'lost',
      }),
    );
    expect(response.status).toBe(202);
    const { actionId } = (await response.json()) as { actionId: string };
    await local.awaitingApproval(actionId);
    return actionId;
  }

  it('records the person who signed as the requester, never a name the body gives', async () => {
    const actionId = await heldWipe();
    const view = (await (await as(ON_CALL, `/v1/actions/${actionId}`)).json()) as Record<
      string,
      unknown
    >;
    expect(view).toMatchObject({
      requestedBy: 'soc.lead@example.com',
      requester: {
        kind: 'person',
        key: `arn:aws:iam::${LOCAL_ACCOUNT_ID}:user/soc.lead@example.com`,
        name: 'soc.lead@example.com',
      },
    });
    const named = await as(
      SOC_LEAD,
      '/v1/actions',
      JSON.stringify({
        action: 'device.wipe',
        target: { deviceId: DEVICES.bobPhone },
        reason: 'lost',
        requestedBy: 'it.oncall@example.com',
      }),
    );
    expect(named.status).toBe(400);
    expect(await named.json()).toMatchObject({ error: { fields: [{ field: 'requestedBy' }] } });
  });

  it('refuses the requester their own approval, a decider named in the body, and the shared webhook secret; a second person approves and the wipe runs', async () => {
    const actionId = await heldWipe();
    const approve = `/v1/actions/${actionId}/approve`;

    const self = await as(SOC_LEAD, approve, '{}');
    expect(self.status).toBe(403);
    expect(await self.json()).toMatchObject({ error: { code: 'self_approval' } });

    const namingSomeoneElse = await as(
      SOC_LEAD,
      approve,
      JSON.stringify({ by: 'it.oncall@example.com' }),
    );
    expect(namingSomeoneElse.status).toBe(400);
    expect(await namingSomeoneElse.json()).toMatchObject({ error: { fields: [{ field: 'by' }] } });

    // The shared Standard Webhooks secret approves nothing: the route takes people only.
    const body = JSON.stringify({ comment: 'signed with the shared secret' });
    const webhook = await fetch(`${local.stack.apiUrl}${approve}`, {
      method: 'POST',
      headers: {
        ...signStandardWebhook(TEST_SIGNING_SECRET, 'msg_approve', new Date(), body),
        'content-type': 'application/json',
      },
      body,
    });
    expect(webhook.status).toBe(403);
    expect(await webhook.json()).toEqual({ message: 'Missing Authentication Token' });

    const record = await local.stack.actions.get(actionId);
    expect(record?.status).toBe('awaiting_approval');
    expect(record?.approval?.decision).toBeUndefined();
    expect(wipes()).toEqual([]);

    const approved = await as(ON_CALL, approve, JSON.stringify({ comment: 'confirmed with bob' }));
    expect(approved.status).toBe(200);
    expect(await approved.json()).toEqual({
      actionId,
      status: 'running',
      decidedBy: 'it.oncall@example.com',
    });
    const finished = await local.finished(actionId);
    expect(finished.status).toBe('succeeded');
    expect(finished.approval).toMatchObject({
      decision: 'approved',
      decidedBy: 'it.oncall@example.com',
    });
    expect(wipes().map((request) => request.status)).toEqual([200]);
  });

  it('lets the requester reject their own action', async () => {
    const actionId = await heldWipe();
    expect((await as(SOC_LEAD, `/v1/actions/${actionId}/reject`, '{}')).status).toBe(200);
    expect((await local.finished(actionId)).status).toBe('rejected');
    expect(wipes()).toEqual([]);
  });

  it('answers every people route with 403 to an unsigned request, as API Gateway does', async () => {
    const actionId = await heldWipe();
    for (const [method, path] of [
      ['POST', '/v1/actions'],
      ['GET', '/v1/actions'],
      ['GET', `/v1/actions/${actionId}`],
      ['POST', `/v1/actions/${actionId}/approve`],
      ['POST', `/v1/actions/${actionId}/reject`],
    ] as const) {
      const response = await fetch(`${local.stack.apiUrl}${path}`, {
        method,
        ...(method === 'POST' ? { body: '{}' } : {}),
      });
      expect(response.status, `${method} ${path}`).toBe(403);
      expect(response.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
    }
    expect((await local.stack.actions.get(actionId))?.status).toBe('awaiting_approval');
  });

  it("finds a person's actions by ticket", async () => {
    const response = await as(
      SOC_LEAD,
      '/v1/actions',
      JSON.stringify({
        action: 'device.selectiveWipe',
        target: { deviceId: DEVICES.bobPhone },
        reason: 'lost phone',
        ticket: 'INC-PEOPLE-1',
        dryRun: true,
      }),
    );
    const { actionId } = (await response.json()) as { actionId: string };
    await local.finished(actionId);
    const listed = (await (await as(ON_CALL, '/v1/actions?ticket=INC-PEOPLE-1')).json()) as {
      actions: { actionId: string; requestedBy?: string }[];
    };
    expect(listed.actions).toEqual([
      expect.objectContaining({ actionId, requestedBy: 'soc.lead@example.com' }),
    ]);
  });
});
