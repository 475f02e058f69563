import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ACTION_LIMITS,
  DEFAULT_GUARDRAIL_SETTINGS,
  GuardrailSettingsSchema,
  guardrailsFromEnv,
  InvalidGuardrailsError,
} from '../../../lib/guardrails/config.ts';

function errorOf(env: Record<string, string>): InvalidGuardrailsError {
  try {
    guardrailsFromEnv(env);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidGuardrailsError);
    expect((error as Error).name).toBe('InvalidGuardrailsError');
    return error as InvalidGuardrailsError;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be rejected`);
}

describe('guardrailsFromEnv defaults', () => {
  it('uses the documented defaults when nothing is set', () => {
    const settings = guardrailsFromEnv({});
    expect(settings).toEqual(DEFAULT_GUARDRAIL_SETTINGS);
    expect(settings.limits).toEqual({
      'session.logoff': { perRequest: 50, perHour: 500, overLimit: 'approval' },
      'session.disconnect': { perRequest: 50, perHour: 500, overLimit: 'approval' },
      'device.wipe': { perRequest: 5, perHour: 10, overLimit: 'approval' },
      'device.selectiveWipe': { perRequest: 20, perHour: 100, overLimit: 'approval' },
      'device.deployPolicy': { perRequest: 50, perHour: 500, overLimit: 'approval' },
      'admin.revoke': { perRequest: 1, perHour: 3, overLimit: 'approval' },
      'admin.deleteInvitation': { perRequest: 5, perHour: 20, overLimit: 'approval' },
      'admin.restore': { perRequest: 1, perHour: 3, overLimit: 'approval' },
      'runbook.run': { perRequest: 1, perHour: 20, overLimit: 'approval' },
    });
    expect(settings.approvalRequired).toEqual([
      'device.wipe',
      'admin.revoke:delete',
      'admin.restore',
    ]);
    expect(settings.approvalTimeoutSeconds).toBe(3600);
    expect(settings.protectedUsers).toEqual([]);
    expect(settings.protectedDevices).toEqual([]);
    // The result is plain data a workflow can carry in its input.
    expect(GuardrailSettingsSchema.parse(JSON.parse(JSON.stringify(settings)))).toEqual(settings);
  });

  it('treats empty variables as unset', () => {
    expect(
      guardrailsFromEnv({
        GUARDRAIL_LIMITS: ' ',
        APPROVAL_REQUIRED: '',
        APPROVAL_TIMEOUT_SECONDS: '',
        PROTECTED_USERS: '',
        PROTECTED_DEVICES: ' , ',
      }),
    ).toEqual(DEFAULT_GUARDRAIL_SETTINGS);
  });

  it('never lets one result change the defaults of the next', () => {
    const settings = guardrailsFromEnv({});
    settings.limits['device.wipe'].perHour = 999;
    settings.approvalRequired.push('session.logoff');
    expect(guardrailsFromEnv({}).limits['device.wipe'].perHour).toBe(10);
    expect(DEFAULT_ACTION_LIMITS['device.wipe'].perHour).toBe(10);
    expect(guardrailsFromEnv({}).approvalRequired).toEqual([
      'device.wipe',
      'admin.revoke:delete',
      'admin.restore',
    ]);
  });
});

describe('GUARDRAIL_LIMITS', () => {
  it('overrides the fields given and keeps the defaults of the rest', () => {
    const settings = guardrailsFromEnv({
      GUARDRAIL_LIMITS: JSON.stringify({
        'device.wipe': { perRequest: 2, overLimit: 'refuse' },
        'session.logoff': { perRequest: 10, perHour: 40, overLimit: 'approval' },
      }),
    });
    expect(settings.limits['device.wipe']).toEqual({
      perRequest: 2,
      perHour: 10,
      overLimit: 'refuse',
    });
    expect(settings.limits['session.logoff']).toEqual({
      perRequest: 10,
      perHour: 40,
      overLimit: 'approval',
    });
    expect(settings.limits['admin.revoke']).toEqual(DEFAULT_ACTION_LIMITS['admin.revoke']);
  });

  it('names unknown action types', () => {
    const error = errorOf({
      GUARDRAIL_LIMITS: JSON.stringify({
        'device.wipe': { perRequest: 1 },
        'device.nuke': { perRequest: 1 },
        'session.kill': {},
      }),
    });
    expect(error.variable).toBe('GUARDRAIL_LIMITS');
    expect(error.field).toBe('device.nuke');
    expect(error.message).toContain('unknown action types device.nuke, session.kill');
  });

  it.each([
    [{ 'device.wipe': { perRequest: 0 } }, 'device.wipe.perRequest', 'at least 1'],
    [{ 'device.wipe': { perHour: 2.5 } }, 'device.wipe.perHour', 'integer'],
    [{ 'device.wipe': { perHour: '10' } }, 'device.wipe.perHour', 'integer'],
    [{ 'admin.revoke': { overLimit: 'ignore' } }, 'admin.revoke.overLimit', "'refuse'"],
    [{ 'admin.revoke': { perMinute: 1 } }, 'admin.revoke.perMinute', 'not a limit field'],
    [{ 'device.wipe': { perRequest: 11 } }, 'device.wipe.perRequest', 'must not exceed perHour'],
    [{ 'device.wipe': { perHour: 100_000 } }, 'device.wipe.perHour', 'at most 20000'],
    [{ 'device.wipe': 5 }, 'device.wipe', 'must be an object'],
  ])('rejects %j naming %s', (limits, field, message) => {
    const error = errorOf({ GUARDRAIL_LIMITS: JSON.stringify(limits) });
    expect(error.variable).toBe('GUARDRAIL_LIMITS');
    expect(error.field).toBe(field);
    expect(error.message).toContain(`${field}: `);
    expect(error.message).toContain(message);
  });

  it.each(['{not json', '[]', '"device.wipe"', 'null'])('rejects %s as a whole', (raw) => {
    const error = errorOf({ GUARDRAIL_LIMITS: raw });
    expect(error.variable).toBe('GUARDRAIL_LIMITS');
    expect(error.field).toBeUndefined();
    expect(error.message).toMatch(/^Invalid GUARDRAIL_LIMITS: must be (JSON|a JSON object)/);
  });
});

describe('APPROVAL_REQUIRED', () => {
  it('takes action types and revoke modes, without duplicates', () => {
    expect(
      guardrailsFromEnv({
        APPROVAL_REQUIRED:
          ' session.logoff, admin.revoke:strip,device.selectiveWipe,session.logoff',
      }).approvalRequired,
    ).toEqual(['session.logoff', 'admin.revoke:strip', 'device.selectiveWipe']);
    expect(guardrailsFromEnv({ APPROVAL_REQUIRED: 'admin.revoke' }).approvalRequired).toEqual([
      'admin.revoke',
    ]);
  });

  it('requires approval for nothing when set to none', () => {
    expect(guardrailsFromEnv({ APPROVAL_REQUIRED: 'none' }).approvalRequired).toEqual([]);
  });

  it.each(['device.nuke', 'admin.revoke:erase', 'device.wipe:delete', 'Device.Wipe'])(
    'rejects %s',
    (entry) => {
      const error = errorOf({ APPROVAL_REQUIRED: `device.wipe,${entry}` });
      expect(error.variable).toBe('APPROVAL_REQUIRED');
      expect(error.field).toBe(entry);
      expect(error.message).toContain(`${entry}: is not an action type`);
    },
  );
});

describe('APPROVAL_TIMEOUT_SECONDS', () => {
  it('accepts 1 second to 7 days', () => {
    expect(guardrailsFromEnv({ APPROVAL_TIMEOUT_SECONDS: '1' }).approvalTimeoutSeconds).toBe(1);
    expect(guardrailsFromEnv({ APPROVAL_TIMEOUT_SECONDS: '604800' }).approvalTimeoutSeconds).toBe(
      604_800,
    );
  });

  it.each(['0', '604801', '90.5', 'soon'])('rejects %s', (value) => {
    const error = errorOf({ APPROVAL_TIMEOUT_SECONDS: value });
    expect(error.variable).toBe('APPROVAL_TIMEOUT_SECONDS');
    expect(error.message).toMatch(/^Invalid APPROVAL_TIMEOUT_SECONDS: /);
  });
});

describe('PROTECTED_USERS and PROTECTED_DEVICES', () => {
  it('reads comma lists, trimmed, dropping case-insensitive duplicates', () => {
    const settings = guardrailsFromEnv({
      PROTECTED_USERS: 'alice@example.com, CORP\\ceo ,kiosk01,ALICE@example.com',
      PROTECTED_DEVICES: '1042, 6F9619FF-8B86-D011-B42D-00C04FC964FF,1042',
    });
    expect(settings.protectedUsers).toEqual(['alice@example.com', 'CORP\\ceo', 'kiosk01']);
    expect(settings.protectedDevices).toEqual(['1042', '6F9619FF-8B86-D011-B42D-00C04FC964FF']);
  });

  it('names an invalid device id', () => {
    const error = errorOf({ PROTECTED_DEVICES: '1042,phone-7' });
    expect(error.variable).toBe('PROTECTED_DEVICES');
    expect(error.field).toBe('phone-7');
    expect(error.message).toContain('phone-7: must be an Endpoint Management device id');
  });

  it('names a user name with control characters', () => {
    const error = errorOf({ PROTECTED_USERS: 'alice,bo\u0007b' });
    expect(error.variable).toBe('PROTECTED_USERS');
    expect(error.field).toBe('bo\u0007b');
  });
});
