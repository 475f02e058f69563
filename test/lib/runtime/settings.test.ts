import { describe, expect, it } from 'vitest';
import {
  deviceWorkflowSettingsFromEnv,
  InvalidSettingsError,
  recordRetentionDaysFromEnv,
  requiredEnv,
  sessionWorkflowSettingsFromEnv,
} from '../../../lib/runtime/settings.ts';
import { DEFAULT_SESSION_WORKFLOW_SETTINGS } from '../../../lib/sessions/session-actions.ts';

describe('device workflow settings', () => {
  it('bounds the devices of one action: 20 by default, DEVICE_MAX_TARGETS from 1 to 100', () => {
    expect(deviceWorkflowSettingsFromEnv({})).toEqual({ maxTargets: 20 });
    expect(deviceWorkflowSettingsFromEnv({ DEVICE_MAX_TARGETS: '3' })).toEqual({ maxTargets: 3 });
    for (const value of ['0', '101', 'many']) {
      expect(() => deviceWorkflowSettingsFromEnv({ DEVICE_MAX_TARGETS: value })).toThrow(
        InvalidSettingsError,
      );
    }
  });
});

describe('settings from the environment', () => {
  it('uses the defaults when nothing is set', () => {
    expect(sessionWorkflowSettingsFromEnv({})).toEqual(DEFAULT_SESSION_WORKFLOW_SETTINGS);
    expect(recordRetentionDaysFromEnv({})).toBe(400);
  });

  it('reads each variable over the defaults', () => {
    expect(
      sessionWorkflowSettingsFromEnv({ SESSION_MAX_TARGETS: '5', LOGOFF_DEADLINE_SECONDS: '120' }),
    ).toEqual({ ...DEFAULT_SESSION_WORKFLOW_SETTINGS, maxTargets: 5, deadlineSeconds: 120 });
  });

  it('fails fast, naming the variable, on values that are not numbers or break the history bound', () => {
    expect(() => sessionWorkflowSettingsFromEnv({ LOGOFF_MAX_WAIT_SECONDS: 'soon' })).toThrow(
      /LOGOFF_MAX_WAIT_SECONDS/,
    );
    expect(() =>
      sessionWorkflowSettingsFromEnv({
        SESSION_MAX_TARGETS: '2000',
        LOGOFF_DEADLINE_SECONDS: '21600',
      }),
    ).toThrow(InvalidSettingsError);
    expect(() => recordRetentionDaysFromEnv({ ACTION_RECORD_TTL_DAYS: '0' })).toThrow(
      /ACTION_RECORD_TTL_DAYS/,
    );
  });

  it('takes thousands of sessions per action in batches, and refuses a history past 80% of the limit', () => {
    expect(sessionWorkflowSettingsFromEnv({ SESSION_MAX_TARGETS: '5000' })).toEqual({
      ...DEFAULT_SESSION_WORKFLOW_SETTINGS,
      maxTargets: 5000,
    });
    // Every session of the 10 batches acted on at once is in flight, unless SESSION_CONCURRENCY says less.
    expect(sessionWorkflowSettingsFromEnv({ SESSION_BATCH_SIZE: '50' })).toEqual({
      ...DEFAULT_SESSION_WORKFLOW_SETTINGS,
      batchSize: 50,
      concurrency: 500,
    });
    expect(
      sessionWorkflowSettingsFromEnv({ SESSION_BATCH_SIZE: '100', SESSION_CONCURRENCY: '250' }),
    ).toMatchObject({ batchSize: 100, concurrency: 250 });
    expect(() => sessionWorkflowSettingsFromEnv({ SESSION_CONCURRENCY: '0' })).toThrow(
      /concurrency/,
    );
    expect(() => sessionWorkflowSettingsFromEnv({ SESSION_BATCH_SIZE: '201' })).toThrow(
      /batchSize/,
    );
    expect(() => sessionWorkflowSettingsFromEnv({ SESSION_MAX_TARGETS: '10001' })).toThrow(
      /maxTargets/,
    );
    // Within the schema's bounds, but every batch running all its rounds would pass 20,000 events (80% of the limit).
    expect(() => sessionWorkflowSettingsFromEnv({ SESSION_MAX_TARGETS: '10000' })).toThrow(
      /session workflow maxTargets: .*80% of the 25000-event execution history limit/,
    );
  });

  it('names a missing required variable', () => {
    expect(() => requiredEnv({}, 'ACTIONS_TABLE_NAME')).toThrow(
      'Environment variable ACTIONS_TABLE_NAME is required',
    );
    expect(requiredEnv({ ACTIONS_TABLE_NAME: 't' }, 'ACTIONS_TABLE_NAME')).toBe('t');
  });
});
