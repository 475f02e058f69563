import { describe, expect, it } from 'vitest';
import {
  accessDifferences,
  grantingUpdate,
} from '../../../lib/administrators/access-comparison.ts';
import type { AdministratorAccess } from '../../../lib/citrix/administrators-schemas.ts';

const CLOUD_ADMIN = 'R-cloud-admin';

/** Custom access with the Cloud Administrator role on `scopes` (every scope with 'all'). */
const custom = (
  scopes: 'all' | readonly string[] | 'none',
  platform: Record<string, boolean> = {},
): AdministratorAccess => ({
  accessType: 'Custom',
  policies: [
    {
      name: CLOUD_ADMIN,
      serviceName: 'XenDesktop',
      displayName: 'Cloud Administrator',
      checkable: { value: scopes !== 'none', canChangeValue: true },
      scopeChoices: {
        allScopesSelected: scopes === 'all',
        choices: ['finance', 'hr'].map((name) => ({
          name,
          checkable: {
            value: scopes === 'all' || (Array.isArray(scopes) && scopes.includes(name)),
            canChangeValue: true,
          },
        })),
      },
    },
    ...Object.entries(platform).map(([name, value]) => ({
      name,
      serviceName: 'Platform',
      checkable: { value, canChangeValue: true },
    })),
  ],
});

describe('accessDifferences', () => {
  it('finds none between the same grants, whatever the order, names shown or ungranted entries', () => {
    const a = custom(['finance'], { notifications: true, licensing: false });
    const reordered: AdministratorAccess = {
      accessType: 'custom',
      policies: [
        { name: 'notifications', checkable: { value: true } },
        ...(custom(['finance']).policies ?? []).map((policy) => ({
          ...policy,
          displayName: 'renamed',
        })),
      ],
    };
    expect(accessDifferences(a, reordered)).toEqual([]);
  });

  it('names each permission granted or taken away, and a scope that changed', () => {
    expect(
      accessDifferences(custom('all', { notifications: true }), custom(['hr'], { domains: true })),
    ).toEqual([
      `${CLOUD_ADMIN}: granted on every scope, now granted on scopes hr`,
      'domains: not granted, now granted',
      'notifications: granted, now not granted',
    ]);
    expect(accessDifferences(custom('none'), custom(['finance']))).toEqual([
      `${CLOUD_ADMIN}: not granted, now granted on scopes finance`,
    ]);
  });

  it('treats Full access as everything, whatever policies come with it', () => {
    const full: AdministratorAccess = { accessType: 'Full', policies: custom('none').policies };
    expect(accessDifferences(full, { accessType: 'full', policies: null })).toEqual([]);
    expect(accessDifferences(full, custom('all'))).toEqual(['access type Full, now Custom']);
    expect(accessDifferences(custom('none'), full)).toEqual(['access type Custom, now Full']);
  });

  it('names a change of access type between other types too', () => {
    expect(
      accessDifferences(custom('none'), { ...custom('none'), accessType: 'Reinvite' }),
    ).toEqual(['access type Custom, now Reinvite']);
  });
});

describe('grantingUpdate', () => {
  it('sends Full access with policies null, as Citrix requires', () => {
    expect(grantingUpdate({ accessType: 'Full', policies: custom('all').policies })).toEqual({
      accessType: 'Full',
      policies: null,
    });
  });

  it('sends Custom access with its whole list of policies, or an empty one', () => {
    const access = custom(['finance'], { notifications: true });
    expect(grantingUpdate(access)).toEqual(access);
    expect(grantingUpdate({ accessType: 'Custom' })).toEqual({
      accessType: 'Custom',
      policies: [],
    });
  });
});
